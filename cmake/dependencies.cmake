# Every dependency comes from a Debian 12 package (scripts/install-deps installs them).
if(CHROMAPACT_STATIC)
  include(static)  # static archives + a static libcurl built from Debian's curl source (static.cmake)
else()
  find_package(CURL REQUIRED)
endif()
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)

# spdlog + fmt used header-only so that the static bootstraps need no libfmt.so (the spdlog_header_only
# target would still link libfmt.so; SPDLOG_FMT_EXTERNAL + FMT_HEADER_ONLY do not).
find_path(SPDLOG_INCLUDE_DIR spdlog/spdlog.h REQUIRED)
add_library(cp_spdlog INTERFACE)
target_include_directories(cp_spdlog SYSTEM INTERFACE ${SPDLOG_INCLUDE_DIR})
target_compile_definitions(cp_spdlog INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)

# hnswlib (libhnswlib-dev 0.6.2) is header-only and ships no CMake or pkg-config file.
find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)
add_library(cp_hnswlib INTERFACE)
target_include_directories(cp_hnswlib SYSTEM INTERFACE ${HNSWLIB_INCLUDE_DIR})
target_link_libraries(cp_hnswlib INTERFACE Threads::Threads)

# cpp-httplib (libcpp-httplib-dev) for the local Runtime API emulator; CLI11 for the command-line tools.
find_path(HTTPLIB_INCLUDE_DIR httplib.h)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
# Debian builds cpp-httplib as a shared library with OpenSSL/zlib/brotli support; its pkg-config flags
# (-DCPPHTTPLIB_OPENSSL_SUPPORT ...) must be used so that the header matches the library's ABI.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(CPP_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
endif()
if(TARGET PkgConfig::CPP_HTTPLIB)
  add_library(cp_httplib INTERFACE)
  target_link_libraries(cp_httplib INTERFACE PkgConfig::CPP_HTTPLIB Threads::Threads)
endif()
