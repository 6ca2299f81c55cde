// Running a translated Chroma $regex over documents in time linear in the document: a required-
// literal prefilter, then one pass of the Thompson-NFA executor. Internal to the REGEXP function.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "chromapact/status.h"
#include "store/filter_regex.h"

namespace chromapact::store::internal {

// A run of code points that every match of a pattern contains as a substring. With
// `ascii_fold`, ASCII letters of the run compare case-insensitively (a run with any (?i) letter is
// folded as a whole: a weaker test, still implied by every match).
struct RequiredLiteral {
  std::wstring text;
  bool ascii_fold = false;
};

// The literals every match of `regex` contains, read from the top level of its ECMAScript form
// (TranslateChromaRegex's output): maximal runs of literal code points (escaped metacharacters,
// \xHH, and the [aA] pairs (?i) expands to) between anything else. A group, class, anchor or
// assertion ends a run; a quantified atom leaves it (`?`, `*`, `{0,..}`) or ends the run after it
// (`+`, `{n,..}` with n >= 1); a top-level `|` means no literal is required. Never wrong, only
// sometimes empty: an empty vector means "no prefilter".
std::vector<RequiredLiteral> RequiredLiterals(const ChromaRegex& regex);

// True when `literal` occurs in `text` (ASCII case folded when literal.ascii_fold).
bool ContainsLiteral(const std::wstring& text, const RequiredLiteral& literal);

// A compiled $regex whose Search is equivalent to std::regex_search(text, CompileChromaRegex(p)).
class ChromaRegexMatcher {
 public:
  // Translates and compiles `pattern`; errors as CompileChromaRegex (kInvalidArgument).
  static Result<ChromaRegexMatcher> Compile(const std::string& pattern);

  // Whether the pattern matches anywhere in `text` (UTF-32 code points). False without running the
  // regex when a required literal is absent; else one match_continuous pass of `[\s\S]*?(?:P)`
  // instead of std::regex_search's restart at every offset (libstdc++ regex_executor.tcc
  // _M_search), which is quadratic when the pattern fails on a long text. `ran_regex` (optional)
  // tells whether the regex ran. kInvalidArgument carries a std::regex_error raised while matching.
  Result<bool> Search(const std::wstring& text, bool* ran_regex = nullptr) const;

  const std::vector<RequiredLiteral>& required() const { return required_; }

 private:
  std::wregex once_;  // `[\s\S]*?(?:P)`, run with match_continuous
  std::vector<RequiredLiteral> required_;
};

}  // namespace chromapact::store::internal
