#include "pipeline/version_copy.h"

#include <filesystem>
#include <system_error>

#include "chromapact/codec/manifest.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline::internal {
namespace fs = std::filesystem;

Status LinkOrCopyVersion(const std::string& from, const std::string& to, const std::string& what) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return IOError(what + ": create " + to + ": " + ec.message());
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path rel = it->path().lexically_relative(from);
    const fs::path dest = fs::path(to) / rel;
    if (it->is_directory(ec)) {
      fs::create_directories(dest, ec);
      if (ec) return IOError(what + ": create " + dest.string() + ": " + ec.message());
      continue;
    }
    if (rel == codec::kManifestFileName || !it->is_regular_file(ec)) continue;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return IOError(what + ": create " + dest.parent_path().string() + ": " + ec.message());
    const bool sqlite = rel.filename().string().rfind(store::kSqliteFileName, 0) == 0;
    if (!sqlite) {
      fs::create_hard_link(it->path(), dest, ec);
      if (!ec) continue;
      ec.clear();
    }
    fs::copy_file(it->path(), dest, fs::copy_options::overwrite_existing, ec);
    if (ec) return IOError(what + ": copy " + rel.string() + " of " + from + ": " + ec.message());
  }
  if (ec) return IOError(what + ": list " + from + ": " + ec.message());
  return Status::Ok();
}

}  // namespace chromapact::pipeline::internal
