// Internal to the compactor: applying one decoded delta to a Store, with Chroma 1.5.9's semantics
// for add / upsert / update / delete (store.h), in log order.
#pragma once

#include <string>

#include "chromapact/codec/delta.h"
#include "chromapact/status.h"
#include "chromapact/store/store.h"

namespace chromapact::pipeline::internal {

// Applies every record of `delta` to `collection`: add (an existing id is left as it is), upsert,
// update (partial; the records that give an embedding and those that do not go as two Update
// calls: ids are unique in a delta, so their order does not matter), delete (missing ids ignored).
// Errors: the Store's (kInvalidArgument for content it rejects, e.g. another dimension). After an
// error part of the delta may have been applied: the caller discards the working copy.
Status ApplyDelta(store::Store* store, const std::string& collection, codec::Delta delta);

}  // namespace chromapact::pipeline::internal
