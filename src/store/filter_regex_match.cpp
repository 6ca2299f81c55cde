// $regex matching: required-literal prefilter + one-pass search, and the SQLite REGEXP function.
#include "store/filter_regex_match.h"

#include <sqlite3.h>

#include <algorithm>
#include <cwctype>
#include <memory>

#include "chromapact/store/filter.h"

namespace chromapact::store::internal {
namespace {

bool IsAsciiLetter(wchar_t c) {
  return (c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z');
}
wchar_t FoldAscii(wchar_t c) {
  return c >= L'A' && c <= L'Z' ? static_cast<wchar_t>(c + 32) : c;
}

// Index of the ']' closing the class that opens at p[open] == '[' (npos when unclosed). Knows the
// translator's class syntax: backslash escapes and [:name:] items.
size_t ClassEnd(const std::wstring& p, size_t open) {
  size_t j = open + 1;
  if (j < p.size() && p[j] == L'^') ++j;
  while (j < p.size()) {
    if (p[j] == L'\\') {
      j += 2;
    } else if (p.compare(j, 2, L"[:") == 0) {
      size_t close = p.find(L":]", j + 2);
      if (close == std::wstring::npos) return std::wstring::npos;
      j = close + 2;
    } else if (p[j] == L']') {
      return j;
    } else {
      ++j;
    }
  }
  return std::wstring::npos;
}

// Reads the top level of an ECMAScript pattern (see RequiredLiterals) left to right.
class LiteralScanner {
 public:
  explicit LiteralScanner(const std::wstring& p) : p_(p) {}

  std::vector<RequiredLiteral> Run() {
    while (i_ < p_.size()) {
      const wchar_t c = p_[i_];
      bool ok = true;
      if (c == L'|') return {};  // alternatives at the top: nothing is required by all of them
      if (c == L'\\')
        ok = Escape();
      else if (c == L'[')
        ok = Class();
      else if (c == L'(')
        ok = Group();
      else if (c == L'*' || c == L'?')
        Quantifier(/*keeps_atom=*/false, 1);
      else if (c == L'+')
        Quantifier(/*keeps_atom=*/true, 1);
      else if (c == L'{')
        ok = Braces();
      else if (c == L'^' || c == L'$' || c == L'.' || c == L')')
        Break(1);
      else
        Add(c, /*fold=*/false, 1);
      if (!ok) return {};  // not the translator's syntax: no prefilter rather than a wrong one
    }
    EndRun();
    return std::move(runs_);
  }

 private:
  void Add(wchar_t c, bool fold, size_t width) {
    run_.text += c;
    run_.ascii_fold = run_.ascii_fold || fold;
    last_is_literal_ = true;
    i_ += width;
  }
  void EndRun() {
    if (!run_.text.empty()) runs_.push_back(std::move(run_));
    run_ = RequiredLiteral{};
  }
  void Break(size_t width) {
    EndRun();
    last_is_literal_ = false;
    i_ += width;
  }
  // A quantifier applies to the atom before it: a literal it may repeat zero times leaves the run.
  void Quantifier(bool keeps_atom, size_t width) {
    if (last_is_literal_ && !keeps_atom) run_.text.pop_back();
    Break(width);
  }

  bool Escape() {
    if (i_ + 1 >= p_.size()) return false;
    const wchar_t e = p_[i_ + 1];
    if (e == L'x') {  // \xHH: the translator's form of a control character
      if (i_ + 3 >= p_.size()) return false;
      const std::wstring hex = p_.substr(i_ + 2, 2);
      if (!std::all_of(hex.begin(), hex.end(),
                       [](wchar_t h) { return std::iswxdigit(static_cast<wint_t>(h)); })) {
        return false;
      }
      Add(static_cast<wchar_t>(std::stoi(std::string(hex.begin(), hex.end()), nullptr, 16)), false, 4);
    } else if (std::wstring(L"dDwWsSbBntrfv").find(e) != std::wstring::npos) {
      Break(2);  // a class, an assertion, or a control escape: not worth a literal
    } else if (std::iswalnum(static_cast<wint_t>(e))) {
      return false;
    } else {
      Add(e, false, 2);  // an escaped metacharacter
    }
    return true;
  }

  bool Class() {
    const size_t close = ClassEnd(p_, i_);
    if (close == std::wstring::npos) return false;
    const std::wstring body = p_.substr(i_ + 1, close - i_ - 1);
    // (?i) writes a letter as [xX]: one required letter, compared case-insensitively.
    if (body.size() == 2 && IsAsciiLetter(body[0]) && FoldAscii(body[0]) == FoldAscii(body[1]) &&
        body[0] != body[1]) {
      Add(body[0], /*fold=*/true, close + 1 - i_);
    } else {
      Break(close + 1 - i_);
    }
    return true;
  }

  bool Group() {
    int depth = 0;
    for (size_t j = i_; j < p_.size(); ++j) {
      if (p_[j] == L'\\') {
        ++j;
      } else if (p_[j] == L'[') {
        j = ClassEnd(p_, j);
        if (j == std::wstring::npos) return false;
      } else if (p_[j] == L'(') {
        ++depth;
      } else if (p_[j] == L')' && --depth == 0) {
        Break(j + 1 - i_);
        return true;
      }
    }
    return false;
  }

  // {n}, {n,}, {n,m}: the atom stays required when n >= 1.
  bool Braces() {
    const size_t close = p_.find(L'}', i_);
    if (close == std::wstring::npos) return false;
    size_t j = i_ + 1;
    int min = 0;
    bool digits = false;
    for (; j < close && p_[j] >= L'0' && p_[j] <= L'9'; ++j) {
      digits = true;
      min = std::min(min * 10 + (p_[j] - L'0'), 1000000);
    }
    Quantifier(/*keeps_atom=*/digits && min >= 1, close + 1 - i_);
    return true;
  }

  const std::wstring& p_;
  size_t i_ = 0;
  bool last_is_literal_ = false;  // the atom just read was a literal appended to run_
  RequiredLiteral run_;
  std::vector<RequiredLiteral> runs_;
};

void MatcherDelete(void* p) {
  std::unique_ptr<ChromaRegexMatcher> owned(static_cast<ChromaRegexMatcher*>(p));
}

// regexp(pattern, text): SQLite evaluates `text REGEXP pattern` as regexp(pattern, text).
void RegexpFunc(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc != 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  auto* re = static_cast<ChromaRegexMatcher*>(sqlite3_get_auxdata(ctx, 0));
  std::unique_ptr<ChromaRegexMatcher> local;
  if (re == nullptr) {
    const char* pattern = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    auto compiled = ChromaRegexMatcher::Compile(pattern ? pattern : "");
    if (!compiled.ok()) {
      std::string msg = "$regex: " + compiled.status().message();
      sqlite3_result_error(ctx, msg.c_str(), -1);
      return;
    }
    local = std::make_unique<ChromaRegexMatcher>(std::move(compiled).value());
    re = local.get();
  }
  const char* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  int n = sqlite3_value_bytes(argv[1]);
  auto hit = re->Search(Utf8ToWide(text ? text : "", static_cast<size_t>(n)));
  if (!hit.ok()) {
    sqlite3_result_error(ctx, ("$regex: " + hit.status().message()).c_str(), -1);
    return;
  }
  sqlite3_result_int(ctx, *hit ? 1 : 0);
  // SQLite owns (and may immediately destroy) what we hand over; `re` is not used after this.
  if (local) sqlite3_set_auxdata(ctx, 0, local.release(), MatcherDelete);
}

}  // namespace

std::vector<RequiredLiteral> RequiredLiterals(const ChromaRegex& regex) {
  return LiteralScanner(regex.ecmascript).Run();
}

bool ContainsLiteral(const std::wstring& text, const RequiredLiteral& literal) {
  if (!literal.ascii_fold) return text.find(literal.text) != std::wstring::npos;
  auto same = [](wchar_t a, wchar_t b) { return FoldAscii(a) == FoldAscii(b); };
  return std::search(text.begin(), text.end(), literal.text.begin(), literal.text.end(), same) != text.end();
}

Result<ChromaRegexMatcher> ChromaRegexMatcher::Compile(const std::string& pattern) {
  CP_ASSIGN_OR_RETURN(ChromaRegex t, TranslateChromaRegex(pattern));
  // The pattern alone first, so it is accepted or rejected exactly as CompileChromaRegex does.
  CP_RETURN_IF_ERROR(CompileTranslated(t.ecmascript, t.flags).status());
  ChromaRegexMatcher m;
  CP_ASSIGN_OR_RETURN(m.once_, CompileTranslated(L"[\\s\\S]*?(?:" + t.ecmascript + L")", t.flags));
  m.required_ = RequiredLiterals(t);
  return m;
}

Result<bool> ChromaRegexMatcher::Search(const std::wstring& text, bool* ran_regex) const {
  if (ran_regex != nullptr) *ran_regex = false;
  for (const auto& literal : required_) {
    if (!ContainsLiteral(text, literal)) return false;
  }
  if (ran_regex != nullptr) *ran_regex = true;
  try {
    // The lazy prefix stands for every start offset at once; the executor's state set is
    // deduplicated per position, so this is one linear pass that stops at the first match.
    return std::regex_search(text, once_, std::regex_constants::match_continuous);
  } catch (const std::regex_error& e) {  // e.g. error_complexity on a pathological pattern
    return InvalidArgument(std::string("regex: ") + e.what());
  }
}

}  // namespace chromapact::store::internal

namespace chromapact::store {

Status RegisterRegexp(sqlite3* db) {
  int rc = sqlite3_create_function_v2(db, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                      internal::RegexpFunc, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Internal(std::string("register REGEXP: ") + sqlite3_errmsg(db));
  return Status::Ok();
}

}  // namespace chromapact::store
