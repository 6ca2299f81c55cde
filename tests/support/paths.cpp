#include "support/paths.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

namespace chromapact::testing {

std::string SourceDir() { return CHROMAPACT_SOURCE_DIR; }
std::string BuildDir() { return CHROMAPACT_BINARY_DIR; }

std::optional<std::string> SharedDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("CHROMAPACT_SHARED_DIR"); env && *env) {
    if (fs::is_directory(env)) return std::string(env);
    return std::nullopt;
  }
  fs::path p = fs::path(SourceDir()).parent_path() / "shared";
  if (fs::is_directory(p / "docs")) return fs::canonical(p).string();
  return std::nullopt;
}

std::string MakeTempDir(const std::string& tag) {
  namespace fs = std::filesystem;
  static std::atomic<int> counter{0};
  fs::path p = fs::path(BuildDir()) / "test-scratch" /
               (tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

}  // namespace chromapact::testing
