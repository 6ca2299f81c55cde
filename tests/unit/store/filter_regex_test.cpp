// The $regex matcher (src/store/filter_regex_match.h): which literals a pattern requires, that a
// document lacking one is rejected without running the regex, and that Search answers exactly as
// std::regex_search over the translated pattern (the matcher it replaced) on many pattern/text pairs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/store/filter.h"
#include "store/filter_regex.h"
#include "store/filter_regex_match.h"

namespace chromapact::store::internal {
namespace {

// Counted repetitions are capped (kMaxRegexRepetition): a 20-digit count made libstdc++'s regex
// compiler overflow a signed long (UBSan, found by fuzz/store/where_fuzz.cpp).
TEST(ChromaRegexTest, RepetitionCountsAboveTheCapAreRefused) {
  for (const char* ok : {"a{1000}", "a{2,1000}", "a{0,}", "(ab){3}x", "a{1000,}"}) {
    EXPECT_TRUE(TranslateChromaRegex(ok).ok()) << ok;
    EXPECT_TRUE(CompileChromaRegex(ok).ok()) << ok;
  }
  for (const char* bad : {"a{1001}", "a{2,1001}", "a{1001,}", "(((\\\\////?{2222222222222222222222222}",
                          "a{00000000000000000000001001}", "x{99999999999999999999999999999999,1}"}) {
    auto r = TranslateChromaRegex(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("repetition count over 1000"), std::string::npos) << r.status().message();
  }
  auto filter = CompileWhereDocument(nlohmann::json{{"$regex", "b{12345678901234567890}"}});
  EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument) << filter.status().ToString();
}

// "text" for a case-sensitive literal, "~text" for an ASCII-folded one.
std::vector<std::wstring> Literals(const std::string& pattern) {
  auto t = TranslateChromaRegex(pattern);
  EXPECT_TRUE(t.ok()) << pattern << ": " << t.status().ToString();
  if (!t.ok()) return {};
  std::vector<std::wstring> out;
  for (const auto& l : RequiredLiterals(*t)) out.push_back((l.ascii_fold ? L"~" : L"") + l.text);
  return out;
}

TEST(RequiredLiteralsTest, TopLevelRunsOfLiteralsThatEveryMatchContains) {
  using W = std::vector<std::wstring>;
  EXPECT_EQ(Literals("foo.*bar"), (W{L"foo", L"bar"}));
  EXPECT_EQ(Literals("ab?c"), (W{L"a", L"c"}));  // b may be absent
  EXPECT_EQ(Literals("ab*c"), (W{L"a", L"c"}));
  EXPECT_EQ(Literals("xab+c"), (W{L"xab", L"c"}));  // b at least once, then the run ends
  EXPECT_EQ(Literals("x{0,3}yz"), (W{L"yz"}));
  EXPECT_EQ(Literals("wx{2}yz"), (W{L"wx", L"yz"}));
  EXPECT_EQ(Literals("a*?b"), (W{L"b"}));         // lazy quantifier
  EXPECT_EQ(Literals("a\\.b\\*"), (W{L"a.b*"}));  // escaped metacharacters are literals
  EXPECT_EQ(Literals("^h$"), (W{L"h"}));
  EXPECT_EQ(Literals("(foo)+bar"), (W{L"bar"}));  // groups are not looked into
  EXPECT_EQ(Literals("[abc]d[^e]f"), (W{L"d", L"f"}));
  EXPECT_EQ(Literals("\\d+%\\bq"), (W{L"%", L"q"}));
  EXPECT_EQ(Literals("\\x{e9}t\\x01"), (W{L"\u00e9t\x01"}));
  EXPECT_EQ(Literals("(?x) h e l l o # c"), (W{L"hello"}));
  EXPECT_EQ(Literals("caf."), (W{L"caf"}));
  EXPECT_EQ(Literals("(?i)Hello1"), (W{L"~Hello1"}));  // [hH]... pairs are folded letters
  EXPECT_EQ(Literals("a(?i)B"), (W{L"~aB"}));          // a folded run is folded as a whole
  EXPECT_EQ(Literals("(?i:h)ello"), (W{L"ello"}));
  EXPECT_EQ(Literals("[[:alpha:]]x[]a]y"), (W{L"x", L"y"}));
  // Nothing every match needs: alternation at the top, or no literal at all.
  EXPECT_EQ(Literals("foo|bar"), W{});
  EXPECT_EQ(Literals("(?s)."), W{});
  EXPECT_EQ(Literals(""), W{});
  EXPECT_EQ(Literals("[0-9]{3}"), W{});
}

TEST(RequiredLiteralsTest, FoldedLiteralsCompareAsciiLettersCaseInsensitively) {
  EXPECT_TRUE(ContainsLiteral(L"xx HeLLo", {L"hello", true}));
  EXPECT_FALSE(ContainsLiteral(L"xx HeLLo", {L"hello", false}));
  EXPECT_TRUE(ContainsLiteral(L"xx hello", {L"hello", false}));
  EXPECT_FALSE(ContainsLiteral(L"\u00c9t\u00e9", {L"\u00e9t\u00e9", true}));  // ASCII only, like the regex
  EXPECT_FALSE(ContainsLiteral(L"hell", {L"hello", true}));
}

TEST(ChromaRegexMatcherTest, AbsentRequiredLiteralRejectsWithoutRunningTheRegex) {
  auto m = ChromaRegexMatcher::Compile("a[^\\n]*needle");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::wstring text(20000, L'a');  // the case that made std::regex_search quadratic
  bool ran = true;
  auto hit = m->Search(text, &ran);
  ASSERT_TRUE(hit.ok());
  EXPECT_FALSE(*hit);
  EXPECT_FALSE(ran);

  text += L"needle";
  hit = m->Search(text, &ran);
  ASSERT_TRUE(hit.ok());
  EXPECT_TRUE(*hit);
  EXPECT_TRUE(ran);

  // The literal present but no match: the regex runs and says no.
  hit = m->Search(L"needle a", &ran);
  ASSERT_TRUE(hit.ok());
  EXPECT_FALSE(*hit);
  EXPECT_TRUE(ran);

  auto folded = ChromaRegexMatcher::Compile("(?i)NeEdLe");
  ASSERT_TRUE(folded.ok());
  hit = folded->Search(L"xx needle", &ran);
  ASSERT_TRUE(hit.ok());
  EXPECT_TRUE(*hit);
  hit = folded->Search(L"xx neddle", &ran);
  ASSERT_TRUE(hit.ok());
  EXPECT_FALSE(*hit);
  EXPECT_FALSE(ran);
}

TEST(ChromaRegexMatcherTest, CompileRejectsWhatCompileChromaRegexRejects) {
  for (const std::string p : {"(?=a)", "a{2,1}", "(a", "\\1", "[z-a]", "\\p{L}", "x\\"}) {
    auto old = CompileChromaRegex(p);
    auto now = ChromaRegexMatcher::Compile(p);
    EXPECT_FALSE(old.ok()) << p;
    ASSERT_FALSE(now.ok()) << p;
    EXPECT_EQ(now.status().code(), StatusCode::kInvalidArgument) << p;
    EXPECT_EQ(now.status().message(), old.status().message()) << p;
  }
}

// Search must answer exactly as std::regex_search over CompileChromaRegex (its result before the
// prefilter and the one-pass search): every pattern on fixed texts and on random texts over an
// alphabet that hits the patterns' literals, anchors, word boundaries and line ends.
TEST(ChromaRegexMatcherTest, SearchEqualsStdRegexSearchOnManyPatternsAndTexts) {
  const std::vector<std::string> patterns = {
      "^a",       "o+",       "[0-9]",       "x$",           "a.b",        "^$",
      "B|f",      "\\d{2}",   "ab?c",        "ab+c",         "a*?b",       "(ab)+",
      "a{2,}",    "ba{0,2}b", "\\ba",        "a\\b",         "\\Bb",       "(?m)^b",
      "(?m)a$",   "(?s)a.b",  "(?i)ab",      "(?i)^B",       "a(?i)b",     "(?i:a)B",
      "(?x) a b", "\\x{e9}",  "\\.",         "a\\.b\\*",     "[^a]b",      "[[:alpha:]]+1",
      "\\Aab",    "ab\\z",    "a[\\s\\S]*b", "a|b|^$",       "(?P<n>a)b",  "\\d+%",
      "x*",       "",         "b[a\\n]{3}",  "\\s\\S",       "(a|b)c(d)?", "^(?:ab)*$",
      "a\\nb",    "\\n",      "1$",          "(?i)\\x{41}1",
  };
  std::vector<std::wstring> texts = {L"",   L"a",    L"ab",      L"abc", L"aab\nb", L"b\na", L"x.a.b*",
                                     L"ac", L"abbc", L"\u00e9a", L"AB",  L"a b",    L"12%",  L"ba\nab"};
  std::mt19937 rng(20261201);
  const std::wstring alphabet = L"aabbcAB1 \n.x*%\u00e9";
  for (int i = 0; i < 300; ++i) {
    std::wstring t;
    const int len = static_cast<int>(rng() % 24);
    for (int k = 0; k < len; ++k) t += alphabet[rng() % alphabet.size()];
    texts.push_back(t);
  }
  int hits = 0, skipped = 0;
  for (const auto& p : patterns) {
    auto old = CompileChromaRegex(p);
    auto now = ChromaRegexMatcher::Compile(p);
    ASSERT_TRUE(old.ok()) << p << ": " << old.status().ToString();
    ASSERT_TRUE(now.ok()) << p << ": " << now.status().ToString();
    for (const auto& t : texts) {
      bool ran = false;
      auto got = now->Search(t, &ran);
      ASSERT_TRUE(got.ok()) << p;
      const bool want = std::regex_search(t, *old);
      ASSERT_EQ(*got, want) << "pattern " << p << " text #" << (&t - texts.data());
      hits += want;
      skipped += !ran;
    }
  }
  // The comparison covered both answers and both paths.
  EXPECT_GT(hits, 1000);
  EXPECT_GT(skipped, 1000);
}

}  // namespace
}  // namespace chromapact::store::internal
