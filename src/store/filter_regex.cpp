// Chroma $regex (Rust regex crate syntax) -> std::wregex ECMAScript. Matching and the SQLite REGEXP
// function: filter_regex_match.cpp.
#include "store/filter_regex.h"

#include <cwctype>
#include <algorithm>
#include <memory>
#include <vector>

namespace chromapact::store::internal {
namespace {

bool IsHex(wchar_t c) { return (c >= L'0' && c <= L'9') || (c >= L'a' && c <= L'f') || (c >= L'A' && c <= L'F'); }

// A literal code point in ECMAScript form (escaped when it is a metacharacter or a control char).
std::wstring Literal(wchar_t c) {
  static const std::wstring kMeta = L"\\^$.|?*+()[]{}/-";
  if (kMeta.find(c) != std::wstring::npos) return std::wstring(L"\\") + c;
  if (c < 0x20) {
    static const wchar_t* kHex = L"0123456789ABCDEF";
    return std::wstring(L"\\x") + kHex[(c >> 4) & 0xf] + kHex[c & 0xf];
  }
  return std::wstring(1, c);
}

bool IsLower(wchar_t c) { return c >= L'a' && c <= L'z'; }
bool IsUpper(wchar_t c) { return c >= L'A' && c <= L'Z'; }
wchar_t OtherCase(wchar_t c) { return IsLower(c) ? c - 32 : IsUpper(c) ? c + 32 : c; }

// Rust regex flags that can change inside a pattern.
struct Flags {
  bool icase = false;    // (?i): implemented by expanding ASCII letters to [aA] / class ranges
  bool dot_all = false;  // (?s)
  bool extended = false; // (?x)
};

class Translator {
 public:
  explicit Translator(std::wstring p) : p_(std::move(p)) {}

  Result<ChromaRegex> Run() {
    while (i_ < p_.size()) {
      wchar_t c = p_[i_];
      if (flags_.extended && (c == L' ' || c == L'\t' || c == L'\n' || c == L'\r' || c == L'\f' || c == L'\v')) {
        ++i_;
      } else if (flags_.extended && c == L'#') {
        while (i_ < p_.size() && p_[i_] != L'\n') ++i_;
      } else if (c == L'\\') {
        CP_RETURN_IF_ERROR(Escape(/*in_class=*/false));
      } else if (c == L'[') {
        CP_RETURN_IF_ERROR(Class());
      } else if (c == L'(') {
        CP_RETURN_IF_ERROR(Group());
      } else if (c == L')') {
        if (stack_.empty()) return Error("unopened group");
        flags_ = stack_.back();
        stack_.pop_back();
        out_.ecmascript += L')';
        ++i_;
      } else if (c == L'{') {
        CP_RETURN_IF_ERROR(CheckRepetitionCounts());
        Emit(c);
        ++i_;
      } else if (c == L'.') {
        out_.ecmascript += flags_.dot_all ? L"[\\s\\S]" : L"[^\\n]";
        ++i_;
      } else {
        Emit(c);
        ++i_;
      }
    }
    return out_;
  }

 private:
  Status Error(const std::string& what) { return InvalidArgument(what + " at offset " + std::to_string(i_)); }

  // At a '{': a counted repetition {n}, {n,} or {n,m} may not count past kMaxRegexRepetition
  // (std::regex's compiler overflows a long on huge counts and expands every count into states).
  // Anything else after '{' is left to std::regex as before.
  Status CheckRepetitionCounts() {
    size_t j = i_ + 1;
    for (int part = 0; part < 2; ++part) {
      size_t digits = 0;
      uint64_t value = 0;
      for (; j < p_.size() && p_[j] >= L'0' && p_[j] <= L'9'; ++j, ++digits) {
        if (value <= kMaxRegexRepetition) value = value * 10 + static_cast<uint64_t>(p_[j] - L'0');
      }
      if (value > kMaxRegexRepetition) {
        return Error("$regex: repetition count over " + std::to_string(kMaxRegexRepetition));
      }
      if (j >= p_.size() || p_[j] != L',') break;
      ++j;
    }
    return Status::Ok();
  }

  // A literal outside a class.
  void Emit(wchar_t c) {
    if (flags_.icase && OtherCase(c) != c) {
      out_.ecmascript += L'[';
      out_.ecmascript += c;
      out_.ecmascript += OtherCase(c);
      out_.ecmascript += L']';
    } else {
      out_.ecmascript += c;
    }
  }

  // Parses a flag list like "is-x" ending at ')' or ':' at p_[j]; applies it to `f`.
  Status ParseFlags(size_t& j, Flags& f, bool at_start) {
    bool negate = false;
    for (; j < p_.size() && p_[j] != L')' && p_[j] != L':'; ++j) {
      wchar_t c = p_[j];
      if (c == L'-') negate = true;
      else if (c == L'i') f.icase = !negate;
      else if (c == L's') f.dot_all = !negate;
      else if (c == L'x') f.extended = !negate;
      else if (c == L'm' && at_start && !negate) out_.flags |= std::regex_constants::multiline;
      else if (c == L'm') return Error("the (?m) flag is only supported at the start of the pattern");
      else if (c == L'U' || c == L'R') return Error(std::string("regex flag '") + static_cast<char>(c) + "' is not supported");
      else return Error("unrecognized flag");
    }
    if (j >= p_.size()) return Error("unclosed group");
    return Status::Ok();
  }

  Status Group() {
    if (p_.compare(i_, 2, L"(?") != 0) {
      stack_.push_back(flags_);
      out_.ecmascript += L'(';
      ++i_;
      return Status::Ok();
    }
    if (p_.compare(i_, 3, L"(?=") == 0 || p_.compare(i_, 3, L"(?!") == 0 || p_.compare(i_, 4, L"(?<=") == 0 ||
        p_.compare(i_, 4, L"(?<!") == 0) {
      return Error("look-around, including look-ahead and look-behind, is not supported");
    }
    size_t name_start = 0;
    if (p_.compare(i_, 4, L"(?P<") == 0) name_start = i_ + 4;
    else if (p_.compare(i_, 3, L"(?<") == 0) name_start = i_ + 3;
    if (name_start) {
      size_t close = p_.find(L'>', name_start);
      if (close == std::wstring::npos || close == name_start) return Error("invalid capture group name");
      stack_.push_back(flags_);
      out_.ecmascript += L'(';
      i_ = close + 1;
      return Status::Ok();
    }
    // (?flags) changes flags to the end of the enclosing group; (?flags:...) only inside.
    bool at_start = out_.ecmascript.empty() && stack_.empty();
    size_t j = i_ + 2;
    Flags f = flags_;
    CP_RETURN_IF_ERROR(ParseFlags(j, f, at_start));
    if (p_[j] == L':') {
      stack_.push_back(flags_);
      out_.ecmascript += L"(?:";
    }
    flags_ = f;
    i_ = j + 1;
    return Status::Ok();
  }

  // \x{HEX} or \xHH at p_[i_] == 'x' (after the backslash); appends the code point.
  Status Hex(bool in_class) {
    ++i_;
    std::wstring digits;
    if (i_ < p_.size() && p_[i_] == L'{') {
      size_t close = p_.find(L'}', i_);
      if (close == std::wstring::npos) return Error("unclosed \\x{...}");
      digits = p_.substr(i_ + 1, close - i_ - 1);
      i_ = close + 1;
    } else {
      digits = p_.substr(i_, 2);
      i_ += 2;
      if (digits.size() != 2) return Error("incomplete \\xHH escape");
    }
    if (digits.empty() || digits.size() > 8) return Error("invalid hex escape");
    uint32_t cp = 0;
    for (wchar_t d : digits) {
      if (!IsHex(d)) return Error("invalid hex escape");
      cp = cp * 16 + static_cast<uint32_t>(d <= L'9' ? d - L'0' : (d | 0x20) - L'a' + 10);
    }
    if (cp > 0x10FFFF) return Error("hex escape beyond U+10FFFF");
    wchar_t w = static_cast<wchar_t>(cp);
    if (in_class) {
      out_.ecmascript += w == L']' || w == L'\\' || w == L'^' || w == L'-' || w < 0x20 ? Literal(w) : std::wstring(1, w);
      if (flags_.icase && OtherCase(w) != w) out_.ecmascript += OtherCase(w);
    } else if (flags_.icase && OtherCase(w) != w) {
      Emit(w);
    } else {
      out_.ecmascript += Literal(w);
    }
    return Status::Ok();
  }

  Status Escape(bool in_class) {
    ++i_;  // backslash
    if (i_ >= p_.size()) return Error("incomplete escape sequence, reached end of pattern prematurely");
    wchar_t c = p_[i_];
    if (c == L'x') return Hex(in_class);
    if (c >= L'0' && c <= L'9') return Error("backreferences are not supported");
    if (c == L'p' || c == L'P') return Error("Unicode classes (\\p, \\P) are not supported by chromapact");
    if (!in_class && (c == L'A' || c == L'z')) {
      if (out_.flags & std::regex_constants::multiline) return Error("\\A and \\z with (?m) are not supported");
      out_.ecmascript += c == L'A' ? L'^' : L'$';
      ++i_;
      return Status::Ok();
    }
    static const std::wstring kClassEsc = L"dDwWsS";
    static const std::wstring kAssertEsc = L"bB";
    static const std::wstring kCtrlEsc = L"ntrfv";
    if (kClassEsc.find(c) != std::wstring::npos || kCtrlEsc.find(c) != std::wstring::npos ||
        (!in_class && kAssertEsc.find(c) != std::wstring::npos)) {
      out_.ecmascript += L'\\';
      out_.ecmascript += c;
      ++i_;
      return Status::Ok();
    }
    if (c == L'a') {
      out_.ecmascript += L"\\x07";
      ++i_;
      return Status::Ok();
    }
    // Rust allows escaping any ASCII punctuation (meta or not) and whitespace.
    if (c < 0x80 && !std::iswalnum(static_cast<wint_t>(c))) {
      out_.ecmascript += Literal(c);
      ++i_;
      return Status::Ok();
    }
    return Error("unrecognized escape sequence");
  }

  // Under (?i), adds the other-case letters of the ASCII range lo..hi to the class being written.
  void CaseFoldRange(wchar_t lo, wchar_t hi) {
    auto add = [this](wchar_t a, wchar_t b, wchar_t from, wchar_t to) {
      wchar_t x = std::max(a, from), y = std::min(b, to);
      if (x > y) return;
      out_.ecmascript += OtherCase(x);
      if (y > x) {
        out_.ecmascript += L'-';
        out_.ecmascript += OtherCase(y);
      }
    };
    add(lo, hi, L'a', L'z');
    add(lo, hi, L'A', L'Z');
  }

  Status Class() {
    out_.ecmascript += L'[';
    ++i_;
    if (i_ < p_.size() && p_[i_] == L'^') {
      out_.ecmascript += L'^';
      ++i_;
    }
    bool first = true;
    while (i_ < p_.size()) {
      wchar_t c = p_[i_];
      if (c == L']' && !first) {
        out_.ecmascript += L']';
        ++i_;
        return Status::Ok();
      }
      if (c == L']') {  // leading ']' is a literal in Rust
        out_.ecmascript += L"\\]";
        ++i_;
      } else if (c == L'\\') {
        CP_RETURN_IF_ERROR(Escape(/*in_class=*/true));
      } else if (c == L'[' && p_.compare(i_, 2, L"[:") == 0) {
        size_t close = p_.find(L":]", i_ + 2);
        if (close == std::wstring::npos) return Error("unclosed [:class:]");
        std::wstring name = p_.substr(i_, close + 2 - i_);
        out_.ecmascript += name;
        if (flags_.icase && (name == L"[:lower:]" || name == L"[:upper:]")) out_.ecmascript += L"[:alpha:]";
        i_ = close + 2;
      } else if (c == L'[') {
        return Error("nested character classes are not supported by chromapact");
      } else if ((c == L'&' || c == L'-' || c == L'~') && i_ + 1 < p_.size() && p_[i_ + 1] == c) {
        return Error("character class set operations are not supported by chromapact");
      } else if (i_ + 2 < p_.size() && p_[i_ + 1] == L'-' && p_[i_ + 2] != L']' && p_[i_ + 2] != L'\\') {
        wchar_t hi = p_[i_ + 2];
        if (hi < c) return Error("invalid character class range");
        out_.ecmascript += c;
        out_.ecmascript += L'-';
        out_.ecmascript += hi;
        if (flags_.icase) CaseFoldRange(c, hi);
        i_ += 3;
      } else {
        out_.ecmascript += c == L'^' ? std::wstring(L"\\^") : std::wstring(1, c);
        if (flags_.icase && OtherCase(c) != c) out_.ecmascript += OtherCase(c);
        ++i_;
      }
      first = false;
    }
    return Error("unclosed character class");
  }

  std::wstring p_;
  size_t i_ = 0;
  Flags flags_;
  std::vector<Flags> stack_;  // flags to restore at each open group's ')'
  ChromaRegex out_;
};

}  // namespace

std::wstring Utf8ToWide(const char* s, size_t n) {
  std::wstring out;
  out.reserve(n);
  const auto* b = reinterpret_cast<const unsigned char*>(s);
  size_t i = 0;
  while (i < n) {
    unsigned char c = b[i];
    uint32_t cp = 0;
    int len = 0;
    if (c < 0x80) cp = c, len = 1;
    else if ((c & 0xE0) == 0xC0) cp = c & 0x1F, len = 2;
    else if ((c & 0xF0) == 0xE0) cp = c & 0x0F, len = 3;
    else if ((c & 0xF8) == 0xF0) cp = c & 0x07, len = 4;
    bool ok = len > 0 && i + static_cast<size_t>(len) <= n;
    for (int k = 1; ok && k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (b[i + k] & 0x3F);
    }
    if (!ok) {
      out += static_cast<wchar_t>(0xFFFD);
      ++i;
      continue;
    }
    out += static_cast<wchar_t>(cp);
    i += static_cast<size_t>(len);
  }
  return out;
}

Result<ChromaRegex> TranslateChromaRegex(const std::string& pattern) {
  return Translator(Utf8ToWide(pattern.data(), pattern.size())).Run();
}

Result<std::wregex> CompileTranslated(const std::wstring& ecmascript, std::regex_constants::syntax_option_type flags) {
#if defined(__GLIBCXX__)
  // libstdc++'s default (backtracking) executor recurses once per input character and overflows
  // the stack on documents of ~100k characters; the Thompson-NFA executor does not (it cannot do
  // backreferences, which Chroma's dialect has none of).
  flags |= std::regex_constants::__polynomial;
#endif
  try {
    return std::wregex(ecmascript, flags);
  } catch (const std::regex_error& e) {
    return InvalidArgument(std::string("regex parse error: ") + e.what());
  }
}

Result<std::wregex> CompileChromaRegex(const std::string& pattern) {
  CP_ASSIGN_OR_RETURN(ChromaRegex t, TranslateChromaRegex(pattern));
  return CompileTranslated(t.ecmascript, t.flags);
}

}  // namespace chromapact::store::internal
