#include "ids.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>

namespace chromapact::emulator {
namespace {

uint64_t Random64() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  return rng();
}

}  // namespace

std::string NewUuid() {
  uint64_t hi = Random64();
  uint64_t lo = Random64();
  hi = (hi & ~0xF000ull) | 0x4000ull;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10xx
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string NewTraceId() {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  const uint64_t a = Random64();
  const uint64_t b = Random64();
  const uint64_t parent = Random64();
  char buf[96];
  std::snprintf(buf, sizeof buf, "Root=1-%08llx-%08x%016llx;Parent=%016llx;Sampled=0",
                static_cast<unsigned long long>(secs) & 0xFFFFFFFFull, static_cast<unsigned>(a & 0xFFFFFFFF),
                static_cast<unsigned long long>(b), static_cast<unsigned long long>(parent));
  return buf;
}

}  // namespace chromapact::emulator
