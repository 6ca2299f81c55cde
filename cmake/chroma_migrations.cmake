# Chroma 1.5.9's 18 migration texts, embedded into chromapact_store at build time.
# scripts/chroma-migrations.py takes them from Chroma's npm artifact
# (chromadb-js-bindings-linux-x64-gnu@1.3.4), checks length + MD5 against its own table (docs/chroma-format.md §2) and
# writes a C++ source into the build tree; the checked texts are cached in
# <build>/_cache/chroma-migrations so later builds need no network. The texts are Chroma's code:
# they stay in the build tree and are never committed. The build fails with the script's message
# when npm is unreachable and nothing is cached.
if(TARGET chromapact_store)
  get_target_property(_cp_store_type chromapact_store TYPE)
  if(NOT _cp_store_type STREQUAL "INTERFACE_LIBRARY")
    find_package(Python3 COMPONENTS Interpreter REQUIRED)
    set(CHROMAPACT_MIGRATIONS_CACHE ${PROJECT_BINARY_DIR}/_cache/chroma-migrations)
    set(CHROMAPACT_MIGRATIONS_CPP ${PROJECT_BINARY_DIR}/generated/store/chroma_migrations.cpp)
    add_custom_command(
      OUTPUT ${CHROMAPACT_MIGRATIONS_CPP}
      COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/scripts/chroma-migrations.py
              --cache ${CHROMAPACT_MIGRATIONS_CACHE} --out ${CHROMAPACT_MIGRATIONS_CPP}
      DEPENDS ${PROJECT_SOURCE_DIR}/scripts/chroma-migrations.py
      COMMENT "Obtaining Chroma 1.5.9 migrations (npm pack chromadb-js-bindings-linux-x64-gnu@1.3.4, md5-checked)"
      VERBATIM)
    target_sources(chromapact_store PRIVATE ${CHROMAPACT_MIGRATIONS_CPP})
  endif()
endif()
