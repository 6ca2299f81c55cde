#include "source_dir.h"

#include <filesystem>
#include <system_error>

namespace chromapact::ops {
namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenSourceCopy(const std::string& persist_dir, const std::string& work_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(persist_dir) / store::kSqliteFileName, ec)) {
    return NotFound("persist_dir: no " + std::string(store::kSqliteFileName) + " in '" + persist_dir + "'");
  }
  const std::string copy = work_dir + "/source";
  fs::create_directories(work_dir, ec);
  fs::copy(persist_dir, copy, fs::copy_options::recursive, ec);
  if (ec) return IOError("copy '" + persist_dir + "' to '" + copy + "': " + ec.message());
  store::OpenOptions open;
  open.create_if_missing = false;
  auto st = store::Store::Open(copy, open);
  if (!st.ok()) return st.status().WithContext("persist_dir '" + persist_dir + "'");
  return st;
}

Result<store::CollectionInfo> PickCollection(const store::Store& src, const std::string& named,
                                             const std::string& fallback) {
  CP_ASSIGN_OR_RETURN(auto all, src.ListCollections());
  std::string want = named;
  if (want.empty()) {
    if (all.size() == 1) return all.front();
    want = fallback;
  }
  std::string names;
  for (auto& c : all) {
    if (c.name == want) return c;
    names += (names.empty() ? "" : ", ") + c.name;
  }
  if (named.empty() && all.size() > 1) {
    return InvalidArgument("source_collection: the directory holds " + std::to_string(all.size()) +
                           " collections (" + names + "); name one");
  }
  return NotFound("source_collection: no collection '" + want + "' in the directory (it holds: " +
                  (names.empty() ? "none" : names) + ")");
}

}  // namespace chromapact::ops
