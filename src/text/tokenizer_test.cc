#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include "text/python_reference_testing.h"

namespace sagaflow::text {
namespace {

using testing::GenerateTexts;
using testing::ParseJsonLines;
using testing::RunReference;
using testing::TextsAsJsonl;

TEST(TokenPatternTest, AcceptsMaximalRunsOfWordCharacters) {
  EXPECT_EQ(*TokenPatternMinLength(R"((?u)\b\w\w+\b)"), 2);
  EXPECT_EQ(*TokenPatternMinLength(R"(\b\w\w+\b)"), 2);
  EXPECT_EQ(*TokenPatternMinLength(R"((?u)\b\w+\b)"), 1);
  EXPECT_EQ(*TokenPatternMinLength(R"(\w+)"), 1);
  EXPECT_EQ(*TokenPatternMinLength(R"((?u)\b\w{3,}\b)"), 3);
  EXPECT_EQ(*TokenPatternMinLength(R"(\b\w\w\w+\b)"), 3);
  EXPECT_EQ(*TokenPatternMinLength(R"(\w\w{4,})"), 5);
}

TEST(TokenPatternTest, RefusesOtherPatternsNamingTokenPattern) {
  for (const char* p : {R"((?u)\b\w\w\b)", R"(\w*)", R"(\w{0,})", R"(\w{2,5})", R"((\w\w+))", R"([a-z]+)",
                        R"((?a)\b\w\w+\b)", R"((?i)\b\w\w+\b)", R"(\S+)", "", R"(\b\w\w+\b|\d)", R"(\w{,3})"}) {
    Result<int> k = TokenPatternMinLength(p);
    ASSERT_FALSE(k.ok()) << p;
    EXPECT_EQ(k.status().code(), Status::Code::kUnsupported);
    EXPECT_NE(k.status().message().find("token_pattern"), std::string::npos);
  }
}

TEST(TokenizerTest, RejectsBadNgramRange) {
  TokenizerOptions o;
  o.ngram_min = 2;
  o.ngram_max = 1;
  EXPECT_FALSE(Tokenizer::Create(o).ok());
  o.ngram_min = 0;
  EXPECT_FALSE(Tokenizer::Create(o).ok());
}

TEST(TokenizerTest, SplitsLowercasesAndJoinsNgrams) {
  TokenizerOptions o;
  o.ngram_max = 2;
  o.stop_words = {"the"};
  auto t = Tokenizer::Create(o);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Terms("The Dark LORD’s ring, a ring!"),
            (std::vector<std::string>{"dark", "lord", "ring", "ring", "dark lord", "lord ring", "ring ring"}));
  EXPECT_EQ(t->Terms(""), std::vector<std::string>{});
  // İ lowercases to i + U+0307 (not \w): "i̇stanbul" splits after the i.
  auto plain = Tokenizer::Create({});
  EXPECT_EQ(plain->Terms("\u0130stanbul caf\u00e9 x2 __ \u00b2\u00b3"),
            (std::vector<std::string>{"stanbul", "caf\u00e9", "x2", "__", "\u00b2\u00b3"}));
}

TEST(TokenizerTest, LongTokensAndBlockBoundaries) {
  auto t = Tokenizer::Create({});
  ASSERT_TRUE(t.ok());
  for (size_t len : {1, 2, 63, 64, 65, 127, 128, 129, 1000}) {
    for (size_t pad : {0, 1, 62, 63, 64}) {
      std::string word(len, 'W');
      std::string text = std::string(pad, ' ').append(word).append(" Z ").append(word).append("\u2019s");
      std::vector<std::string> expected;
      std::string lower(len, 'w');
      if (len >= 2) expected = {lower, lower};
      EXPECT_EQ(t->Terms(text), expected) << len << " " << pad;
    }
  }
}

// Runs CountVectorizer(**config).build_analyzer() and our Tokenizer on the
// same generated texts.
void ExpectSameTermsAsSklearn(const std::string& config_json, const TokenizerOptions& options) {
  auto tokenizer = Tokenizer::Create(options);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  std::vector<std::string> words = {"the", "and",    "Ring", "frodo", "x",     "ab",    "Σίσυφος", "ΣΑΣ",
                                    "İi",  "straße", "hp_7", "Ⅻ",     "co-op", "don’t", "ＡＢＣ",  "naïve"};
  std::vector<std::string> texts = GenerateTexts(1500, words, 7);
  auto expected = ParseJsonLines(RunReference({"analyze", config_json}, TextsAsJsonl(texts)));
  ASSERT_EQ(expected.size(), texts.size());
  size_t failures = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto want = expected[i]["terms"].get<std::vector<std::string>>();
    auto got = tokenizer->Terms(texts[i]);
    if (got != want && ++failures < 5) {
      ADD_FAILURE() << config_json << " text #" << i << ": " << testing::Quote(texts[i]) << "\n got "
                    << nlohmann::json(got).dump() << "\nwant " << nlohmann::json(want).dump();
    }
  }
  EXPECT_EQ(failures, 0u) << config_json;
}

TEST(TokenizerTest, MatchesSklearnAnalyzerDefault) { ExpectSameTermsAsSklearn("{}", {}); }

TEST(TokenizerTest, MatchesSklearnAnalyzerWithoutLowercase) {
  TokenizerOptions o;
  o.lowercase = false;
  o.token_pattern = R"((?u)\b\w+\b)";
  ExpectSameTermsAsSklearn(R"({"lowercase": false, "token_pattern": "(?u)\\b\\w+\\b"})", o);
}

TEST(TokenizerTest, MatchesSklearnAnalyzerMinLengthThree) {
  TokenizerOptions o;
  o.token_pattern = R"(\b\w{3,}\b)";
  ExpectSameTermsAsSklearn(R"({"token_pattern": "\\b\\w{3,}\\b"})", o);
}

TEST(TokenizerTest, MatchesSklearnAnalyzerNgramsAndStopWords) {
  TokenizerOptions o;
  o.ngram_min = 1;
  o.ngram_max = 3;
  o.stop_words = {"the", "and", "x"};
  ExpectSameTermsAsSklearn(R"({"ngram_range": [1, 3], "stop_words": ["the", "and", "x"]})", o);
}

TEST(TokenizerTest, MatchesSklearnAnalyzerBigramsOnly) {
  TokenizerOptions o;
  o.ngram_min = 2;
  o.ngram_max = 2;
  o.lowercase = false;
  ExpectSameTermsAsSklearn(R"({"ngram_range": [2, 2], "lowercase": false})", o);
}

TEST(TokenizerTest, MatchesSklearnAnalyzerUnigramStopWords) {
  TokenizerOptions o;
  o.stop_words = {"ring", "ab"};
  ExpectSameTermsAsSklearn(R"({"stop_words": ["ring", "ab"]})", o);
}

}  // namespace
}  // namespace sagaflow::text
