#include "text/unicode.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <unordered_map>

#include "text/python_reference_testing.h"

namespace sagaflow::text {
namespace {

using testing::ParseJsonLines;
using testing::RunReference;
using testing::TextsAsJsonl;

std::string Utf8(char32_t c) {
  std::string s;
  AppendUtf8(c, &s);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out;
  AppendLowercase(s, &out);
  return out;
}

// Every code point against the running Python: \w, isspace() and lower()
// of the character on its own.
TEST(UnicodeTest, EveryCodePointMatchesPython) {
  std::string table = RunReference({"unicode-table"}, "");
  ASSERT_FALSE(table.empty());
  struct Expected {
    bool word, space;
    std::u32string lower;
  };
  std::unordered_map<char32_t, Expected> expected;
  std::istringstream in(table);
  std::string cp_hex, lower_hex;
  int word, space;
  while (in >> cp_hex >> word >> space >> lower_hex) {
    Expected e{word == 1, space == 1, {}};
    std::istringstream parts(lower_hex);
    std::string h;
    while (std::getline(parts, h, ',')) e.lower.push_back(static_cast<char32_t>(std::stoul(h, nullptr, 16)));
    expected[static_cast<char32_t>(std::stoul(cp_hex, nullptr, 16))] = e;
  }
  ASSERT_GT(expected.size(), 100000u);  // ~135k word characters in Unicode 14
  size_t checked = 0, mismatches = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c < 0xE000) continue;
    auto it = expected.find(c);
    Expected e = it != expected.end() ? it->second : Expected{false, false, std::u32string(1, c)};
    char32_t mapped[3];
    int n = LowercaseFull(c, mapped);
    std::u32string lower(mapped, mapped + n);
    if (IsWordChar(c) != e.word || IsSpace(c) != e.space || lower != e.lower) {
      if (++mismatches < 20) {
        ADD_FAILURE() << std::hex << "U+" << uint32_t(c) << ": word " << IsWordChar(c) << " vs " << e.word << ", space "
                      << IsSpace(c) << " vs " << e.space << ", lower differs: " << (lower != e.lower);
      }
    }
    // The string-level function agrees on a lone character (U+03A3 alone
    // has no cased character before it: σ).
    std::string expected_utf8;
    for (char32_t l : e.lower) AppendUtf8(l, &expected_utf8);
    if (Lower(Utf8(c)) != expected_utf8 && ++mismatches < 20) {
      ADD_FAILURE() << std::hex << "AppendLowercase(U+" << uint32_t(c) << ")";
    }
    ++checked;
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(checked, 0x110000u - 0x800u);
}

// Final_Sigma depends on the context, which can be anything: random strings
// over an alphabet of cased, uncased, case-ignorable (some also cased) and
// space characters around U+03A3.
TEST(UnicodeTest, LowerAndBlankMatchPythonOnSigmaContexts) {
  const char32_t alphabet[] = {0x3A3,   0x3A3,   0x3A3,  'A',    'a',    'Z',    '1',    ' ',   '\t',  '.',
                               '\'',    ':',     '-',    '_',    0x2019, 0xAD,   0x345,  0x307, 0x301, 0x2B0,
                               0x2BC,   0xB7,    0x387,  0x1F88, 0x1C5,  0x130,  0x3C3,  0x3C2, 0x391, 0x3B1,
                               0x2160,  0x24B6,  0x24D0, 0xAA,   0x200B, 0x200D, 0x3000, 0xA0,  0x85,  0x4E2D,
                               0x1F600, 0x10400, 0x2C2F, 0xFF21, 0x1E9E, 0xE0041};
  std::mt19937 rng(20240614);
  std::vector<std::string> texts = {"",
                                    " ",
                                    "\u3000\t\n",
                                    "x",
                                    "\u03a3",
                                    "A\u03a3",
                                    "A\u03a3A",
                                    "\u0391\u03a3.",
                                    "A\u00ad\u03a3",
                                    "A\u03a3\u00ad",
                                    "A\u03a3\u00adb",
                                    "\u1f88\u03a3"};
  for (int t = 0; t < 20000; ++t) {
    std::string s;
    int len = std::uniform_int_distribution<int>(1, 8)(rng);
    for (int k = 0; k < len; ++k) {
      AppendUtf8(alphabet[std::uniform_int_distribution<size_t>(0, std::size(alphabet) - 1)(rng)], &s);
    }
    texts.push_back(std::move(s));
  }
  auto expected = ParseJsonLines(RunReference({"lower"}, TextsAsJsonl(texts)));
  ASSERT_EQ(expected.size(), texts.size());
  size_t failures = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string lower = Lower(texts[i]);
    if (lower != expected[i]["lower"].get<std::string>() && ++failures < 20) {
      ADD_FAILURE() << "lower(" << texts[i] << ") = " << lower << ", Python: " << expected[i]["lower"];
    }
    if (IsBlank(texts[i]) != expected[i]["blank"].get<bool>() && ++failures < 20) {
      ADD_FAILURE() << "IsBlank(" << texts[i] << ")";
    }
  }
  EXPECT_EQ(failures, 0u);
}

TEST(UnicodeTest, FinalSigmaExamples) {
  EXPECT_EQ(Lower("\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3"),
            "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2");
  EXPECT_EQ(Lower("\u03a3"), "\u03c3");        // nothing cased before
  EXPECT_EQ(Lower("A\u03a3"), "a\u03c2");      // word-final
  EXPECT_EQ(Lower("A\u03a3B"), "a\u03c3b");    // followed by cased
  EXPECT_EQ(Lower("A'\u03a3"), "a'\u03c2");    // apostrophe is case-ignorable
  EXPECT_EQ(Lower("A\u03a3'b"), "a\u03c3'b");  // ignorable skipped forwards too
  EXPECT_EQ(Lower("A \u03a3"), "a \u03c3");    // space is neither
  EXPECT_EQ(Lower("\u0130"), "i\u0307");       // length-changing mapping
  EXPECT_EQ(Lower("\u1e9e"), "\u00df");
  EXPECT_EQ(Lower("ABC def"), "abc def");
}

TEST(UnicodeTest, Utf8DecodeEncodeRoundTrip) {
  for (char32_t c : {char32_t{0}, char32_t{0x7F}, char32_t{0x80}, char32_t{0x7FF}, char32_t{0x800}, char32_t{0xD7FF},
                     char32_t{0xE000}, char32_t{0xFFFF}, char32_t{0x10000}, char32_t{0x10FFFF}}) {
    std::string s = Utf8(c);
    EXPECT_TRUE(IsValidUtf8(s));
    size_t i = 0;
    EXPECT_EQ(DecodeUtf8(s, &i), c);
    EXPECT_EQ(i, s.size());
  }
}

TEST(UnicodeTest, RejectsMalformedUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII that is long enough to use the eight-byte loop"));
  for (std::string bad : {"\x80", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF0\x80\x80\xAF",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3", "\xE2\x82", "abcdefgh\xC3"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << testing::Quote(bad);
  }
}

}  // namespace
}  // namespace sagaflow::text
