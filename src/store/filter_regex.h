// Chroma's $regex dialect (the Rust `regex` crate, as used by Chroma 1.5.9) mapped onto
// std::wregex ECMAScript over UTF-32 code points. Internal to the filter/REGEXP implementation.
#pragma once

#include <cstdint>
#include <regex>
#include <string>

#include "chromapact/status.h"

namespace chromapact::store::internal {

struct ChromaRegex {
  std::wstring ecmascript;  // translated pattern
  std::regex_constants::syntax_option_type flags = std::regex_constants::ECMAScript;
};

// Largest count of a counted repetition {n,m} (found by fuzz/store/where_fuzz.cpp: libstdc++'s
// regex compiler overflows a signed long on counts of 19+ digits).
inline constexpr uint64_t kMaxRegexRepetition = 1000;

// Translates a Chroma (Rust regex) pattern. Supported: flag groups (?i) (?s) (?x) anywhere, scoped
// (?i:..) and negated (?-i); (?m) at the start only; (?P<name>..) and (?<name>..) (plain groups),
// (?:..), \x{HEX}, \xHH, \A, \z, `.` = any code point but \n (all with (?s)), classes incl.
// [[:alpha:]]. (?i) is implemented by expanding ASCII letters ([hH], class ranges a-z + A-Z).
// Errors (kInvalidArgument), like Chroma: look-around, backreferences, unknown escapes, a trailing
// backslash, unbalanced parentheses. Not supported here (kInvalidArgument naming the construct):
// \p{..}/\P{..}, (?m) after the start, flags U and R, nested classes, class set operations
// (&&, --, ~~). Differences kept: \d \w \s \b are ASCII (Rust: Unicode); (?i) folds ASCII only;
// std::regex rejects nested repetition (a**), which Rust accepts; a counted repetition above
// kMaxRegexRepetition ({1001}) is kInvalidArgument here (Rust accepts counts up to its compiled
// size limit, 10 MiB by default).
Result<ChromaRegex> TranslateChromaRegex(const std::string& pattern);

// Compiles TranslateChromaRegex output (ChromaRegex::ecmascript / flags, or a pattern built around
// it) with the executor every $regex uses; the std::regex_error text goes into the
// kInvalidArgument message.
Result<std::wregex> CompileTranslated(const std::wstring& ecmascript, std::regex_constants::syntax_option_type flags);

// Translates and compiles; errors as TranslateChromaRegex and CompileTranslated.
Result<std::wregex> CompileChromaRegex(const std::string& pattern);

// UTF-8 -> UTF-32 (invalid bytes become U+FFFD).
std::wstring Utf8ToWide(const char* s, size_t n);

}  // namespace chromapact::store::internal
