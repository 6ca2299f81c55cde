// Hashes and encodings used across chromapact (OpenSSL's libcrypto underneath).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chromapact/status.h"

namespace chromapact {

// Raw 32-byte SHA-256 of `data`.
std::string Sha256(std::string_view data);
// Lowercase hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);
// Lowercase hex SHA-256 of a file's bytes, read in 1 MiB blocks. Errors: kIOError naming the path.
Result<std::string> Sha256HexOfFile(const std::string& path);
// Incremental SHA-256: Update() any number of times, then HexDigest() once (64 lowercase hex).
// Equal to Sha256Hex of the concatenated input. Not copyable; one per thread.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string HexDigest();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Raw 16-byte MD5 (used only where a protocol asks for it: S3 Content-MD5, Chroma migration hashes).
std::string Md5(std::string_view data);
// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);
// Standard base64 (RFC 4648 §4, with padding).
std::string Base64Encode(std::string_view bytes);
// Decodes standard base64; errors: kInvalidArgument on a character outside the alphabet or bad padding.
Result<std::string> Base64Decode(std::string_view text);
// CRC-32C (Castagnoli, as in RFC 3720), continuing from `crc` (0 to start).
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace chromapact
