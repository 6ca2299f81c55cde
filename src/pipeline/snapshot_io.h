// Positioned reads and writes of local snapshot files (snapshot.cpp, snapshot_fetch.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "chromapact/status.h"

namespace chromapact::pipeline::internal {

// A file opened for pread; moves, closes on destruction.
class FileReader {
 public:
  // Errors: kIOError naming the path.
  static Result<FileReader> Open(const std::string& path);
  FileReader(FileReader&& o) noexcept;
  FileReader& operator=(FileReader&& o) noexcept;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  ~FileReader();
  // Exactly `len` bytes from `offset`. Errors: kIOError (short read, naming the path).
  Result<std::string> Read(uint64_t offset, uint64_t len) const;

 private:
  FileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// A file created (truncated) for sequential writes; Close() reports the first error.
class FileWriter {
 public:
  static Result<FileWriter> Create(const std::string& path);
  FileWriter(FileWriter&& o) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();
  Status Append(const std::string& data);
  Status Close();

 private:
  FileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace chromapact::pipeline::internal
