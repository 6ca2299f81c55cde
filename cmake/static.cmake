# -DCHROMAPACT_STATIC=ON: dependencies for fully static Lambda bootstraps (docs/deploy.md "Images"). Included by dependencies.cmake before its find_package calls.
# - libcurl: Debian's libcurl.a cannot be linked fully statically (no libgssapi_krb5.a / p11-kit .a,
#   libsasl2.a drags in database clients), so scripts/static-curl builds a minimal one (HTTP only,
#   OpenSSL, zlib) from Debian's own curl source package into <build>/_cache/curl-static/prefix at
#   configure time (once; later configures find its stamp). Needs dpkg-dev and a Debian mirror.
# - OpenSSL, SQLite and zlib: Debian's own .a archives.
# - json, spdlog (+ fmt, FMT_HEADER_ONLY) and hnswlib are header-only already.
# Only the bootstraps are meant to be built in a static build dir (scripts/build-static); the dynamic
# build stays the default for tests and sanitizers.
set(CHROMAPACT_CURL_STATIC_DIR ${PROJECT_BINARY_DIR}/_cache/curl-static CACHE PATH
    "Where scripts/static-curl keeps the Debian curl source, its build and the installed static libcurl")
execute_process(
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/static-curl ${CHROMAPACT_CURL_STATIC_DIR}/work ${CHROMAPACT_CURL_STATIC_DIR}/prefix
  RESULT_VARIABLE _cp_static_curl_rc)
if(NOT _cp_static_curl_rc EQUAL 0)
  message(FATAL_ERROR "CHROMAPACT_STATIC: scripts/static-curl failed (${_cp_static_curl_rc}); logs in "
                      "${CHROMAPACT_CURL_STATIC_DIR}/work")
endif()

set(OPENSSL_USE_STATIC_LIBS TRUE)
set(ZLIB_USE_STATIC_LIBS ON)  # CMake >= 3.24
find_library(SQLite3_LIBRARY NAMES libsqlite3.a REQUIRED)
find_package(CURL CONFIG REQUIRED PATHS ${CHROMAPACT_CURL_STATIC_DIR}/prefix NO_DEFAULT_PATH)

# chromapact_static_executables(DIR): every executable defined in directory DIR is linked with
# -static, garbage-collected sections and stripped (-s). Compile with section-per-function so that
# --gc-sections can drop what the bootstrap never calls (the area libraries do the same, areas.cmake).
function(chromapact_static_executables dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_compile_options(${t} PRIVATE -ffunction-sections -fdata-sections)
      target_link_options(${t} PRIVATE -static -Wl,--gc-sections -s)
    endif()
  endforeach()
endfunction()
