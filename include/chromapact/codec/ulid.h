// ULIDs (https://github.com/ulid/spec): 128-bit identifiers = 48-bit Unix time in milliseconds (UTC)
// followed by 80 random bits, written as 26 characters of Crockford base32
// ("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 5 bits per character, most significant first; the first
// character carries only 3 bits, so it is 0..7).
//
// What ULIDs are for here: unique ids that need no coordination (a delta's producer-side id, lease
// owners, snapshot writer ids); the canonical (upper-case) strings sort bytewise in time order.
// They order nothing in the log: a delta's place is its sequence number (pipeline/log.h), since
// ULIDs follow each producer's clock, not the order writes were acknowledged in. Within one
// process, ULIDs from one generator are strictly increasing (the spec's monotonic mode), also when
// the clock stands still or steps back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "chromapact/status.h"

namespace chromapact::codec {

inline constexpr size_t kUlidLength = 26;
// Largest timestamp a ULID can carry: 2^48 - 1 ms (year 10889).
inline constexpr uint64_t kUlidMaxTimeMs = (uint64_t{1} << 48) - 1;

// Generates ULIDs. Thread-safe (one mutex). Randomness from OpenSSL's RAND_bytes (CSPRNG), so two
// processes (two Lambda sandboxes) started in the same millisecond do not collide in practice.
//
// Monotonic mode (spec "Monotonicity"): when a call's time is <= the previous ULID's time, the new
// ULID keeps the previous time and is the previous random part + 1. Thus ids from one generator are
// strictly increasing in string order, even across a clock step back.
class UlidGenerator {
 public:
  UlidGenerator() = default;
  UlidGenerator(const UlidGenerator&) = delete;
  UlidGenerator& operator=(const UlidGenerator&) = delete;

  // A new ULID for the wall clock (std::chrono::system_clock, ms since the Unix epoch, UTC).
  // Errors: kInternal if the CSPRNG fails; kResourceExhausted if 2^80 ULIDs were made in one ms.
  Result<std::string> Next();
  // Same for an explicit time `now_ms` (ms since the Unix epoch, UTC). Errors as above, and
  // kInvalidArgument if now_ms > kUlidMaxTimeMs.
  Result<std::string> NextAt(uint64_t now_ms);

 private:
  std::mutex mu_;
  uint64_t last_ms_ = 0;
  bool have_last_ = false;
  uint8_t last_random_[10] = {};  // big-endian 80-bit number
};

// The process-wide generator's Next() (one generator for the process keeps its ids monotonic).
Result<std::string> NewUlid();

// Encodes a time and 10 random bytes (big-endian) as a canonical ULID. Precondition: time_ms <=
// kUlidMaxTimeMs.
std::string EncodeUlid(uint64_t time_ms, const uint8_t random[10]);

// Checks that `text` is a canonical ULID: exactly 26 characters from the upper-case Crockford
// alphabet, first character 0..7 (no 128-bit overflow). Lower case is rejected so that string order
// stays time order everywhere ids are compared. Errors: kInvalidArgument naming the position and
// character, prefixed with `field` (e.g. "delta_id").
Status ValidateUlid(std::string_view text, std::string_view field = "ulid");

// Canonicalises user input: accepts lower case and Crockford's aliases (I, L -> 1; O -> 0) and
// returns the canonical upper-case form. Errors: as ValidateUlid.
Result<std::string> ParseUlid(std::string_view text, std::string_view field = "ulid");

// Timestamp (ms since the Unix epoch, UTC) of a canonical ULID. Errors: as ValidateUlid.
Result<uint64_t> UlidTimeMs(std::string_view text);

}  // namespace chromapact::codec
