// Fuzz target: the XML reader and every S3 answer parser built on it (ListObjectsV2, DeleteObjects,
// multipart, copy results, error mapping). Nothing may crash; whatever text survives Escape must
// parse back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "aws/s3_wire.h"
#include "aws/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chromapact::aws;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)xml::Parse(bytes);
  (void)s3_wire::ParseListObjectsV2(bytes);
  (void)s3_wire::ParseDeleteResult(bytes);
  (void)s3_wire::ParseUploadId(bytes);
  (void)s3_wire::ParseResultEtag(bytes);
  (void)s3_wire::IsErrorDocument(bytes);
  (void)s3_wire::UrlDecode(bytes, true);
  HttpResponse resp;
  resp.status = 400 + static_cast<int>(size % 200);
  resp.body = bytes;
  (void)s3_wire::ErrorFromResponse("fuzz", resp);
  // Round trip: any byte string escaped into an element's text parses back to itself (XML 1.0 can
  // not carry NUL and most control characters, but this reader is byte-transparent).
  auto back = xml::Parse("<a>" + xml::Escape(bytes) + "</a>");
  if (!back.ok() || back->text != bytes) std::abort();
  return 0;
}
