// Where tests find the repository, the build tree and ../shared.
#pragma once

#include <optional>
#include <string>

namespace chromapact::testing {

// The repository root (compiled in).
std::string SourceDir();
// The CMake build tree (compiled in).
std::string BuildDir();
// ../shared beside the repository, or $CHROMAPACT_SHARED_DIR; nullopt when neither exists.
std::optional<std::string> SharedDir();
// A fresh, empty directory under the build tree's test scratch area, unique to this process and call.
std::string MakeTempDir(const std::string& tag);

}  // namespace chromapact::testing

// Skips the current test with a printed reason when ../shared is absent; else binds `var` to it.
#define CP_REQUIRE_SHARED(var)                                                     \
  auto var##_opt = ::chromapact::testing::SharedDir();                             \
  if (!var##_opt) GTEST_SKIP() << "../shared not found (set CHROMAPACT_SHARED_DIR)"; \
  const std::string var = *var##_opt
