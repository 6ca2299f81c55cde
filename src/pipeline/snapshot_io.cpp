// Positioned reads and sequential writes of local snapshot files (snapshot_io.h), over POSIX fds.
#include "pipeline/snapshot_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace chromapact::pipeline::internal {

Result<FileReader> FileReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IOError("snapshot: cannot open " + path + ": " + std::strerror(errno));
  return FileReader(fd, path);
}

FileReader::FileReader(FileReader&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}

FileReader& FileReader::operator=(FileReader&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
  }
  return *this;
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> FileReader::Read(uint64_t offset, uint64_t len) const {
  std::string out(len, '\0');
  uint64_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd_, out.data() + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return IOError("snapshot: short read of " + path_ + " at " + std::to_string(offset + done) +
                     (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
    }
    done += static_cast<uint64_t>(n);
  }
  return out;
}

Result<FileWriter> FileWriter::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("snapshot: cannot create " + path + ": " + std::strerror(errno));
  return FileWriter(fd, path);
}

FileWriter::FileWriter(FileWriter&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileWriter::Append(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IOError("snapshot: cannot write " + path_ + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FileWriter::Close() {
  if (fd_ < 0) return Status::Ok();
  const int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0) return IOError("snapshot: cannot close " + path_ + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace chromapact::pipeline::internal
