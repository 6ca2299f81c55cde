#include "chromapact/codec/ulid.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace chromapact::codec {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Value of a canonical (upper-case) character, -1 if none. With `lenient`, also lower case and the
// aliases I/L -> 1, O -> 0 (Crockford's decoding rules).
int DecodeChar(char c, bool lenient) {
  if (lenient) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'I' || c == 'L') c = '1';
    if (c == 'O') c = '0';
  }
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

Result<std::string> Check(std::string_view text, std::string_view field, bool lenient) {
  if (text.size() != kUlidLength) {
    return InvalidArgument(std::string(field) + ": a ULID has 26 characters, got " +
                           std::to_string(text.size()));
  }
  std::string out(kUlidLength, '0');
  for (size_t i = 0; i < kUlidLength; ++i) {
    int v = DecodeChar(text[i], lenient);
    if (v < 0) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned char>(text[i]));
      return InvalidArgument(std::string(field) + ": character " + std::to_string(i) + " (" + hex +
                             ") is not upper-case Crockford base32");
    }
    if (i == 0 && v > 7) {
      return InvalidArgument(std::string(field) + ": first character must be 0..7 (128-bit overflow)");
    }
    out[i] = kAlphabet[v];
  }
  return out;
}

}  // namespace

std::string EncodeUlid(uint64_t time_ms, const uint8_t random[10]) {
  std::string out(kUlidLength, '0');
  uint64_t t = time_ms;
  for (int i = 9; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kAlphabet[t & 31];
    t >>= 5;
  }
  // 80 random bits, big-endian, as 16 groups of 5 bits.
  for (int g = 0; g < 16; ++g) {
    int bit = g * 5;  // index of the group's first bit from the most significant end
    int v = 0;
    for (int b = 0; b < 5; ++b) {
      int k = bit + b;
      v = (v << 1) | ((random[k / 8] >> (7 - k % 8)) & 1);
    }
    out[10 + static_cast<size_t>(g)] = kAlphabet[v];
  }
  return out;
}

Result<std::string> UlidGenerator::Next() {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return NextAt(now < 0 ? 0 : static_cast<uint64_t>(now));
}

Result<std::string> UlidGenerator::NextAt(uint64_t now_ms) {
  if (now_ms > kUlidMaxTimeMs)
    return InvalidArgument("ulid: time " + std::to_string(now_ms) + " ms is past 2^48-1");
  std::lock_guard<std::mutex> lock(mu_);
  if (have_last_ && now_ms <= last_ms_) {
    // Monotonic mode: same (or earlier) millisecond -> previous random part + 1.
    int i = 9;
    for (; i >= 0; --i) {
      if (++last_random_[i] != 0) break;
    }
    if (i < 0) {
      // Wrapped to zero: restore (all 0xFF) and refuse, as the spec requires.
      std::memset(last_random_, 0xFF, sizeof(last_random_));
      return ResourceExhausted("ulid: random part overflowed within one millisecond");
    }
    return EncodeUlid(last_ms_, last_random_);
  }
  uint8_t fresh[10];
  if (RAND_bytes(fresh, sizeof(fresh)) != 1) return Internal("ulid: RAND_bytes failed");
  std::memcpy(last_random_, fresh, sizeof(fresh));
  last_ms_ = now_ms;
  have_last_ = true;
  return EncodeUlid(last_ms_, last_random_);
}

Result<std::string> NewUlid() {
  static UlidGenerator* generator = [] {
    static UlidGenerator g;
    return &g;
  }();
  return generator->Next();
}

Status ValidateUlid(std::string_view text, std::string_view field) {
  auto r = Check(text, field, false);
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::string> ParseUlid(std::string_view text, std::string_view field) {
  return Check(text, field, true);
}

Result<uint64_t> UlidTimeMs(std::string_view text) {
  CP_RETURN_IF_ERROR(ValidateUlid(text));
  uint64_t t = 0;
  for (size_t i = 0; i < 10; ++i) t = (t << 5) | static_cast<uint64_t>(DecodeChar(text[i], false));
  return t;
}

}  // namespace chromapact::codec
