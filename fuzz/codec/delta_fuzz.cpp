// Fuzz target for the delta readers: the native .cpd reader (whole and in 3-record chunks) and the
// gzip-JSON importer. Invariants: no crash, no sanitizer report, no allocation beyond the limits,
// the chunked reader agrees with DecodeDelta, and a decoded delta re-encodes and decodes to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chromapact/codec/delta.h"
#include "chromapact/codec/delta_reader.h"

using chromapact::codec::DeltaOptions;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  DeltaOptions options;
  options.limits.max_payload_bytes = 16u << 20;  // keep the fuzzer's memory small
  options.limits.max_document_bytes = 1u << 20;
  if (!chromapact::codec::LooksLikeNativeDelta(bytes)) {
    chromapact::codec::DeltaMeta meta;
    meta.collection = "fuzz";
    meta.delta_id = "01JDZQ8K3M4N5P6Q7R8S9T0VWX";
    auto d = chromapact::codec::DecodeJsonGzDelta(bytes, meta, options);
    if (d.ok() && !chromapact::codec::EncodeDelta(*d, options).ok()) std::abort();
    return 0;
  }
  auto whole = chromapact::codec::DecodeDelta(bytes, options);
  size_t chunked_records = 0;
  bool chunked_ok = false;
  auto reader = chromapact::codec::DeltaReader::Open(chromapact::codec::MakeMemorySource(bytes), options);
  if (reader.ok()) {
    chromapact::codec::DeltaRecords chunk;
    while (true) {
      auto n = (*reader)->Next(3, &chunk);
      if (!n.ok()) break;
      if (*n == 0) {
        chunked_ok = true;
        break;
      }
      chunked_records += *n;
    }
  }
  if (whole.ok() != chunked_ok) std::abort();
  if (!whole.ok()) return 0;
  if (chunked_records != whole->records.size()) std::abort();
  auto again = chromapact::codec::EncodeDelta(*whole, options);
  if (!again.ok()) std::abort();
  auto back = chromapact::codec::DecodeDelta(*again, options);
  if (!back.ok() || back->records.ids != whole->records.ids ||
      back->records.embeddings != whole->records.embeddings ||
      back->records.documents != whole->records.documents ||
      back->records.metadatas != whole->records.metadatas ||
      back->records.embedding_given != whole->records.embedding_given) {
    std::abort();
  }
  return 0;
}
