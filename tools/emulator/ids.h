// Identifiers the emulator hands out.
#pragma once

#include <string>

namespace chromapact::emulator {

// A random (version 4) UUID, lower-case "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (RFC 4122 §4.4).
std::string NewUuid();

// An X-Ray trace header "Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=0"
// (AWS X-Ray doc "Tracing header").
std::string NewTraceId();

}  // namespace chromapact::emulator
