// A Chroma persist directory given to import / diff: copied into the scratch folder and opened
// read-write there (so that older layouts migrate in the copy, never in the user's directory), and
// the collection the operator meant picked from it.
#pragma once

#include <memory>
#include <string>

#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::ops {

// Errors: kNotFound when `persist_dir` has no chroma.sqlite3; kIOError for the copy; Store::Open's.
Result<std::unique_ptr<store::Store>> OpenSourceCopy(const std::string& persist_dir, const std::string& work_dir);

// The collection named `named`; when `named` is empty, the store's only collection, else the one
// named `fallback`. Errors: kInvalidArgument (several collections and none named), kNotFound.
Result<store::CollectionInfo> PickCollection(const store::Store& src, const std::string& named,
                                             const std::string& fallback);

}  // namespace chromapact::ops
