#include "text/classifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

namespace sagaflow::text {
namespace {

using nlohmann::json;

json BaseModel() {
  return json::parse(R"({
    "format": "sagaflow-text-classifier", "version": 1,
    "labels": ["got", "lotr", "hp"],
    "vectorizer": {"type": "count", "lowercase": true, "token_pattern": "(?u)\\b\\w\\w+\\b",
                   "ngram_range": [1, 1], "binary": false,
                   "terms": ["stark", "ring", "wand", "longer_than_eight"]},
    "classifier": {"kind": "LinearSVC", "scheme": "ovr",
                   "coef": [[1.0, 0.0, -0.5, 0.25], [0.0, 2.0, 0.0, 0.0], [-0.5, 0.0, 1.5, 0.0]],
                   "intercept": [0.1, -0.2, 0.3]},
    "provenance": {"note": "unit test"}
  })");
}

Classifier Load(const json& model) {
  auto c = Classifier::FromJson(model.dump());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

TEST(ClassifierTest, CountModelScores) {
  Classifier c = Load(BaseModel());
  EXPECT_EQ(c.labels(), (std::vector<std::string>{"got", "lotr", "hp"}));
  EXPECT_EQ(c.num_features(), 4u);
  double s[3];
  EXPECT_EQ(c.Predict("STARK stark Wand, a ring? LONGER_THAN_EIGHT longer_than_eighT", s), 0);
  EXPECT_DOUBLE_EQ(s[0], 2 * 1.0 + 1 * -0.5 + 2 * 0.25 + 0.1);
  EXPECT_DOUBLE_EQ(s[1], 2.0 - 0.2);
  EXPECT_DOUBLE_EQ(s[2], 2 * -0.5 + 1.5 + 0.3);
  // No known term: the intercepts; the first maximum wins ties.
  EXPECT_EQ(c.Predict("nothing here \u00e9t\u00e9", s), 2);
  EXPECT_DOUBLE_EQ(s[0], 0.1);
  json m = BaseModel();
  m["classifier"]["intercept"] = {0.5, 0.5, 0.5};
  EXPECT_EQ(Load(m).Predict("", s), 0);
  // Terms differing after their first 8 bytes are told apart.
  EXPECT_EQ(c.Predict("longer_than_eighty longer_than_eigh", s), 2);
  EXPECT_DOUBLE_EQ(s[0], 0.1);
}

// The token fast path (ASCII runs looked up in the scan's lowercased copy
// of the text, AVX2 or portable) against the general path, which a stop
// word list forces: the same terms must give bit-identical scores. Texts mix
// runs of every length around the lookup's 8- and 16-byte words and the
// scan's 64-byte blocks with non-ASCII characters that end a run (’ —),
// join it (é), change case across the boundary ('İ' -> "i̇", the Kelvin sign
// -> ASCII 'k', Σ) or start it right after ASCII.
TEST(ClassifierTest, TokenFastPathMatchesGeneralPath) {
  const std::vector<std::string> terms = {"ab",
                                          "abcdefg",
                                          "abcdefgh",
                                          "abcdefghi",
                                          "abcdefghijklmnop",
                                          "abcdefghijklmnopq",
                                          "abcdefghijklmnopqr",
                                          "x_1",
                                          "42",
                                          "caf\u00e9",
                                          "i\u0307stanbul",
                                          "stanbul",
                                          "king",
                                          "\u03c3\u03bf\u03c2",
                                          "kk",
                                          "UPPER",
                                          "a"};
  const std::vector<std::string> pieces = {"ab",
                                           "AB",
                                           "abcdefg",
                                           "ABCDEFGH",
                                           "abcdefghi",
                                           "abcdefghijklmnop",
                                           "ABCDEFGHIJKLMNOPQ",
                                           "abcdefghijklmnopqr",
                                           "abcdefghijklmnopqrstuvwxyz",
                                           "x_1",
                                           "X_1",
                                           "42",
                                           "caf\u00e9",
                                           "CAF\u00c9",
                                           "\u0130stanbul",
                                           "\u0130",
                                           "King",
                                           "\u212Aing",
                                           "\u212A\u212A",
                                           "\u03a3\u039f\u03a3",
                                           "UPPER",
                                           "upper",
                                           "a",
                                           " ",
                                           "  ",
                                           "\n",
                                           "\u2019",
                                           "\u2014",
                                           ".",
                                           "-",
                                           "\u00e9",
                                           "_"};
  const std::vector<double> coef = {1.0,  2.0,  3.0,  5.0,  7.0,  11.0, 13.0, 0.5, 0.25,
                                    17.0, 19.0, 23.0, 29.0, 31.0, 37.0, 41.0, 43.0};
  for (bool lowercase : {true, false}) {
    json fast = BaseModel();
    fast["vectorizer"]["lowercase"] = lowercase;
    fast["vectorizer"]["token_pattern"] = "(?u)\\b\\w+\\b";
    fast["vectorizer"]["terms"] = terms;
    std::vector<double> minus(coef.rbegin(), coef.rend());
    fast["classifier"]["coef"] = {coef, minus, std::vector<double>(coef.size(), 0.125)};
    json general = fast;
    general["vectorizer"]["stop_words"] = {"zzzzzzzzzzzzzzzzzzzzzzzzz"};
    auto simd = Classifier::FromJson(fast.dump(), ClassifierOptions{.simd = true});
    auto portable = Classifier::FromJson(fast.dump(), ClassifierOptions{.simd = false});
    auto reference = Classifier::FromJson(general.dump());
    ASSERT_TRUE(simd.ok() && portable.ok() && reference.ok());
    ASSERT_TRUE(simd->tokenizer().terms_are_tokens());
    ASSERT_FALSE(reference->tokenizer().terms_are_tokens());
    std::mt19937 rng(7);
    for (int round = 0; round < 4000; ++round) {
      std::string text(std::uniform_int_distribution<size_t>(0, 70)(rng), ' ');
      const int n = std::uniform_int_distribution<int>(0, round % 5 == 0 ? 200 : 30)(rng);
      for (int i = 0; i < n; ++i) text += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
      double a[3], b[3], r[3];
      const int la = simd->Predict(text, a), lb = portable->Predict(text, b), lr = reference->Predict(text, r);
      EXPECT_EQ(la, lr) << text;
      EXPECT_EQ(lb, lr) << text;
      for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(a[k], r[k]) << lowercase << " " << text;
        EXPECT_EQ(b[k], r[k]) << lowercase << " " << text;
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(ClassifierTest, BinaryModelReportsMinusAndPlusDecision) {
  json m = BaseModel();
  m["labels"] = {"other", "got"};
  m["classifier"]["scheme"] = "binary";
  m["classifier"]["coef"] = {{1.0, -1.0, 0.0, 0.0}};
  m["classifier"]["intercept"] = {-0.5};
  Classifier c = Load(m);
  double s[2];
  EXPECT_EQ(c.Predict("stark", s), 1);
  EXPECT_DOUBLE_EQ(s[1], 0.5);
  EXPECT_DOUBLE_EQ(s[0], -0.5);
  EXPECT_EQ(c.Predict("ring", s), 0);
  m["classifier"]["intercept"] = {0.0};
  EXPECT_EQ(Load(m).Predict("", s), 0);  // d == 0 is not > 0
}

TEST(ClassifierTest, TfidfL2WithIdf) {
  json m = BaseModel();
  m["vectorizer"]["type"] = "tfidf";
  m["vectorizer"]["tfidf"] = {
      {"norm", "l2"}, {"use_idf", true}, {"smooth_idf", true}, {"sublinear_tf", true}, {"idf", {1.5, 2.0, 3.0, 1.0}}};
  Classifier c = Load(m);
  double s[3];
  c.Predict("stark stark stark wand", s);
  double x0 = (std::log(3.0) + 1) * 1.5, x2 = 1.0 * 3.0;
  double norm = std::sqrt(x2 * x2 + x0 * x0);  // descending feature order
  EXPECT_DOUBLE_EQ(s[0], (x2 / norm) * -0.5 + (x0 / norm) * 1.0 + 0.1);
  EXPECT_DOUBLE_EQ(s[2], (x2 / norm) * 1.5 + (x0 / norm) * -0.5 + 0.3);
}

TEST(ClassifierTest, BinaryCountsAndNgrams) {
  json m = BaseModel();
  m["vectorizer"]["binary"] = true;
  m["vectorizer"]["ngram_range"] = {1, 2};
  m["vectorizer"]["stop_words"] = {"the"};
  m["vectorizer"]["terms"] = {"stark", "the ring", "stark ring", "wand"};
  Classifier c = Load(m);
  double s[3];
  // Terms after stop words: stark ring stark | stark ring, ring stark ("the ring" never forms).
  c.Predict("Stark the RING stark", s);
  EXPECT_DOUBLE_EQ(s[0], 1.0 * 1.0 + 1.0 * -0.5 + 0.1);
  EXPECT_DOUBLE_EQ(s[1], -0.2);
  EXPECT_DOUBLE_EQ(s[2], 1.0 * -0.5 + 1.0 * 1.5 + 0.3);
  c.Predict("the ring", s);
  EXPECT_DOUBLE_EQ(s[0], 0.1);
}

TEST(ClassifierTest, RejectsInvalidModelsNamingTheField) {
  struct Case {
    std::function<void(json&)> edit;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](json& m) { m["format"] = "other"; }, "format"},
      {[](json& m) { m["version"] = 2; }, "version"},
      {[](json& m) { m["extra"] = 1; }, "extra"},
      {[](json& m) {
         m["labels"] = {"a", "a", "b"};
       },
       "labels[1]"},
      {[](json& m) { m["labels"] = {"a"}; }, "labels"},
      {[](json& m) { m["vectorizer"]["type"] = "hashing"; }, "vectorizer.type"},
      {[](json& m) { m["vectorizer"]["token_pattern"] = "[a-z]+"; }, "token_pattern"},
      {[](json& m) {
         m["vectorizer"]["ngram_range"] = {2, 1};
       },
       "vectorizer.ngram_range"},
      {[](json& m) {
         m["vectorizer"]["terms"] = {"a", "b", "a", "c"};
       },
       "vectorizer.terms[2]"},
      {[](json& m) { m["vectorizer"].erase("binary"); }, "vectorizer.binary"},
      {[](json& m) { m["vectorizer"]["tfidf"] = json::object(); }, "vectorizer.tfidf"},
      {[](json& m) {
         m["vectorizer"]["type"] = "tfidf";
         m["vectorizer"]["tfidf"] = {{"norm", "l2"}, {"use_idf", true}, {"sublinear_tf", false}};
       },
       "vectorizer.tfidf.idf"},
      {[](json& m) { m["classifier"]["kind"] = "RandomForest"; }, "classifier.kind"},
      {[](json& m) { m["classifier"]["scheme"] = "binary"; }, "classifier.scheme"},
      {[](json& m) {
         m["classifier"]["coef"][1] = {1.0, 2.0};
       },
       "classifier.coef[1]"},
      {[](json& m) { m["classifier"]["coef"][0][2] = "x"; }, "classifier.coef[0][2]"},
      {[](json& m) { m["classifier"]["intercept"] = {1.0}; }, "classifier.intercept"},
  };
  for (auto& c : cases) {
    json m = BaseModel();
    c.edit(m);
    auto r = Classifier::FromJson(m.dump());
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(Classifier::FromJson("{not json").ok());
  std::string infinite = BaseModel().dump();
  infinite.replace(infinite.find("0.25"), 4, "1e999");
  auto r = Classifier::FromJson(infinite);
  ASSERT_FALSE(r.ok());
  auto missing = Classifier::LoadFile("/nonexistent/model.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model.json"), std::string::npos);
}

TEST(ClassifierTest, IsMovableAndPredictsConcurrently) {
  Classifier a = Load(BaseModel());
  Classifier b = std::move(a);
  double s[3];
  EXPECT_EQ(b.Predict("ring ring", s), 1);
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      double local[3];
      for (int i = 0; i < 2000; ++i) {
        int expected = (i + t) % 3;
        const char* text = expected == 0 ? "stark stark" : expected == 1 ? "ring" : "wand wand";
        if (b.Predict(text, local) != expected) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace sagaflow::text
