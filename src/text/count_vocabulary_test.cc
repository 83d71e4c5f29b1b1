#include "text/count_vocabulary.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "text/english_stop_words.h"
#include "text/trainer.h"
#include "text/trainer_testing.h"
#include "util/json_writer.h"

namespace sagaflow::text {
namespace {

using testing::RunPython;
using testing::ScratchDir;
using testing::SplitLines;

TEST(DocumentFrequencyBoundTest, ParsesCountsAndProportionsLikeScikitLearn) {
  auto count = DocumentFrequencyBound::Parse("10", "--min-df");
  ASSERT_TRUE(count.ok());
  EXPECT_FALSE(count->proportion);
  EXPECT_EQ(count->Threshold(1000), 10);
  auto proportion = DocumentFrequencyBound::Parse("0.7", "--max-df");
  ASSERT_TRUE(proportion.ok());
  EXPECT_TRUE(proportion->proportion);
  EXPECT_DOUBLE_EQ(proportion->Threshold(1000), 700);
  // 1 is one document; 1.0 is every document.
  EXPECT_FALSE(DocumentFrequencyBound::Parse("1", "x")->proportion);
  EXPECT_TRUE(DocumentFrequencyBound::Parse("1.0", "x")->proportion);
  EXPECT_TRUE(DocumentFrequencyBound::Parse("5e-1", "x")->proportion);
  EXPECT_EQ(DocumentFrequencyBound::Parse("1.0", "x")->ToString(), "1.0");
  EXPECT_EQ(DocumentFrequencyBound::Parse("0.25", "x")->ToString(), "0.25");
  EXPECT_EQ(DocumentFrequencyBound::Parse("12", "x")->ToString(), "12");
  for (const char* bad : {"", "-1", "1.5", "abc", "3x", "-0.1", "nan"}) {
    auto r = DocumentFrequencyBound::Parse(bad, "--min-df");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("--min-df"), std::string::npos);
    }
  }
}

TEST(EnglishStopWordsTest, EqualsScikitLearnsList) {
  ScratchDir dir;
  std::string out = RunPython(dir, R"(
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
print("\n".join(sorted(ENGLISH_STOP_WORDS)))
)",
                              {});
  std::vector<std::string> ours(EnglishStopWords().begin(), EnglishStopWords().end());
  EXPECT_EQ(ours, SplitLines(out));
}

// numpy's argsort is not stable; max_features tie-breaking depends on
// reproducing its exact permutation, so compare on arrays full of ties.
TEST(NumpyArgsortTest, SamePermutationAsNumpy) {
  std::mt19937 rng(5);
  std::vector<std::vector<int64_t>> arrays;
  for (size_t n : {0, 1, 2, 3, 15, 16, 17, 18, 31, 64, 100, 257, 1000, 5000}) {
    for (int64_t range : {1, 2, 3, 10, 1000000}) {
      std::vector<int64_t> a(n);
      for (int64_t& v : a) v = -static_cast<int64_t>(rng() % range);
      arrays.push_back(a);
      std::vector<int64_t> sorted = a;
      std::sort(sorted.begin(), sorted.end());
      arrays.push_back(sorted);
      std::reverse(sorted.begin(), sorted.end());
      arrays.push_back(sorted);
    }
  }
  ScratchDir dir;
  std::ostringstream data;
  for (const auto& a : arrays) {
    data << "x";
    for (int64_t v : a) data << ' ' << v;
    data << '\n';
  }
  testing::WriteFile(dir.File("arrays.txt"), data.str());
  std::string out = RunPython(dir, R"(
import sys, numpy as np
for line in open(sys.argv[1]):
    a = np.array([int(t) for t in line.split()[1:]], dtype=np.int64)
    print("x", *a.argsort())
)",
                              {dir.File("arrays.txt")});
  std::vector<std::string> lines = SplitLines(out);
  ASSERT_EQ(lines.size(), arrays.size());
  for (size_t k = 0; k < arrays.size(); ++k) {
    std::ostringstream ours;
    ours << "x";
    for (uint32_t i : NumpyArgsort(arrays[k])) ours << ' ' << i;
    EXPECT_EQ(ours.str(), lines[k]) << "array " << k << " of size " << arrays[k].size();
  }
}

struct VocabularyCase {
  const char* name;
  TokenizerOptions tokenizer;
  bool english = false;
  const char* min_df;
  const char* max_df;
  size_t max_features;
  const char* sklearn_kwargs;
};

std::vector<std::string> SampleTexts() {
  std::vector<std::string> texts;
  for (const char* file : {"data/sample/train.jsonl", "data/sample/test.jsonl"}) {
    auto docs = ReadLabelledJsonl(sagaflow::testing::SourceDir() + "/" + file,
                                  [](const std::string& why) { ADD_FAILURE() << why; });
    EXPECT_TRUE(docs.ok());
    for (auto& d : *docs) texts.push_back(d.text);
  }
  // Non-ASCII and edge texts: Python lowercasing, empty documents.
  texts.push_back("ÉOWYN and Éomer rode past the Argonath; the DÚNEDAIN watched from Amon Dîn. ΣΟΦΟΣ Σ.");
  texts.push_back("");
  texts.push_back("   \t ");
  texts.push_back("İstanbul straße ﬁnal Ⅻ x_y __ 42 4");
  return texts;
}

TEST(CountVocabularyTest, SameVocabularyAsCountVectorizer) {
  const std::vector<std::string> texts = SampleTexts();
  ScratchDir dir;
  std::string corpus;
  for (const std::string& t : texts) {
    JsonWriter w(&corpus);
    w.BeginObject();
    w.Key("text");
    w.String(t);
    w.EndObject();
    corpus.push_back('\n');
  }
  testing::WriteFile(dir.File("corpus.jsonl"), corpus);
  std::vector<std::string_view> views(texts.begin(), texts.end());

  TokenizerOptions bigrams;
  bigrams.ngram_max = 2;
  TokenizerOptions single_chars;
  single_chars.token_pattern = R"((?u)\b\w+\b)";
  TokenizerOptions keep_case;
  keep_case.lowercase = false;
  const std::vector<VocabularyCase> cases = {
      {"defaults", {}, false, "1", "1.0", 0, ""},
      {"prototype", {}, true, "10", "0.7", 500, "min_df=10, max_df=0.7, max_features=500, stop_words='english'"},
      {"ties", {}, false, "1", "1.0", 137, "max_features=137"},
      {"ties_stop", {}, true, "2", "0.5", 61, "min_df=2, max_df=0.5, max_features=61, stop_words='english'"},
      {"proportions", {}, false, "0.01", "0.3", 0, "min_df=0.01, max_df=0.3"},
      {"count_max", {}, true, "3", "20", 0, "min_df=3, max_df=20, stop_words='english'"},
      {"bigrams", bigrams, true, "2", "1.0", 300,
       "ngram_range=(1, 2), min_df=2, max_features=300, stop_words='english'"},
      {"single_chars", single_chars, false, "1", "1.0", 250, R"py(token_pattern=r'(?u)\b\w+\b', max_features=250)py"},
      {"keep_case", keep_case, false, "1", "1.0", 90, "lowercase=False, max_features=90"},
  };
  // One Python run fits every case; its output is "#" + case index, then
  // the case's terms in feature order, one per line.
  std::string kwargs;
  for (const VocabularyCase& c : cases) kwargs += std::string(c.sklearn_kwargs) + "\n";
  testing::WriteFile(dir.File("cases.txt"), kwargs);
  std::string out = RunPython(dir, R"py(
import sys, json
from sklearn.feature_extraction.text import CountVectorizer
texts = [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")]
out = sys.stdout.buffer
for k, kwargs in enumerate(open(sys.argv[2]).read().split("\n")[:-1]):
    v = eval("CountVectorizer(" + kwargs + ")").fit(texts)
    out.write(("#%d\n" % k).encode())
    out.write("".join(t + "\n" for t in sorted(v.vocabulary_, key=v.vocabulary_.get)).encode("utf-8"))
)py",
                              {dir.File("corpus.jsonl"), dir.File("cases.txt")});
  std::vector<std::vector<std::string>> expected;
  for (const std::string& line : SplitLines(out)) {
    if (!line.empty() && line[0] == '#') {
      expected.emplace_back();
    } else {
      ASSERT_FALSE(expected.empty()) << out;
      expected.back().push_back(line);
    }
  }
  ASSERT_EQ(expected.size(), cases.size()) << out;

  for (size_t k = 0; k < cases.size(); ++k) {
    const VocabularyCase& c = cases[k];
    TokenizerOptions tok = c.tokenizer;
    if (c.english) {
      for (std::string_view w : EnglishStopWords()) tok.stop_words.emplace_back(w);
    }
    auto tokenizer = Tokenizer::Create(tok);
    ASSERT_TRUE(tokenizer.ok()) << c.name;
    TermCounts counts = TermCounts::Build(*tokenizer, views);
    VocabularyOptions options;
    options.min_df = *DocumentFrequencyBound::Parse(c.min_df, "min_df");
    options.max_df = *DocumentFrequencyBound::Parse(c.max_df, "max_df");
    options.max_features = c.max_features;
    std::vector<uint32_t> all(texts.size());
    for (uint32_t d = 0; d < all.size(); ++d) all[d] = d;
    auto vocabulary = counts.SelectVocabulary(all, options);
    ASSERT_TRUE(vocabulary.ok()) << c.name << ": " << vocabulary.status().ToString();
    std::vector<std::string> ours;
    for (uint32_t t : *vocabulary) ours.push_back(counts.terms()[t]);
    EXPECT_EQ(ours.size(), expected[k].size()) << c.name;
    EXPECT_EQ(ours, expected[k]) << c.name;
    if (c.max_features) {
      EXPECT_LE(ours.size(), c.max_features) << c.name;
    }

    // Vectorize: counts of vocabulary terms, columns ascending.
    SparseRows x = counts.Vectorize(all, *vocabulary);
    ASSERT_EQ(x.rows(), texts.size());
    EXPECT_EQ(x.cols, vocabulary->size());
    for (size_t i = 0; i < x.rows(); ++i) {
      for (uint64_t e = x.row_begin[i] + 1; e < x.row_begin[i + 1]; ++e) ASSERT_LT(x.col[e - 1], x.col[e]);
    }
  }
}

TEST(CountVocabularyTest, ErrorsLikeScikitLearn) {
  TokenizerOptions tok;
  for (std::string_view w : EnglishStopWords()) tok.stop_words.emplace_back(w);
  auto tokenizer = Tokenizer::Create(tok);
  ASSERT_TRUE(tokenizer.ok());
  std::vector<std::string_view> only_stop = {"the and of", "a", ""};
  TermCounts counts = TermCounts::Build(*tokenizer, only_stop);
  std::vector<uint32_t> all = {0, 1, 2};
  auto empty = counts.SelectVocabulary(all, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty vocabulary"), std::string::npos);

  std::vector<std::string_view> texts = {"frodo sam", "frodo merry", "frodo pippin"};
  TermCounts c2 = TermCounts::Build(*tokenizer, texts);
  VocabularyOptions crossed;
  crossed.min_df = DocumentFrequencyBound::Count(3);
  crossed.max_df = DocumentFrequencyBound::Count(2);
  auto r = c2.SelectVocabulary(all, crossed);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max_df"), std::string::npos);

  VocabularyOptions nothing_left;
  nothing_left.min_df = DocumentFrequencyBound::Count(2);
  nothing_left.max_df = DocumentFrequencyBound::Proportion(0.9);  // frodo is in all 3
  auto pruned = c2.SelectVocabulary(all, nothing_left);
  ASSERT_FALSE(pruned.ok());
  EXPECT_NE(pruned.status().message().find("no terms remain"), std::string::npos);

  // A subset of the documents is a different fit: df counted on it only.
  std::vector<uint32_t> first_two = {0, 1};
  auto sub = c2.SelectVocabulary(first_two, {});
  ASSERT_TRUE(sub.ok());
  std::vector<std::string> terms;
  for (uint32_t t : *sub) terms.push_back(c2.terms()[t]);
  EXPECT_EQ(terms, (std::vector<std::string>{"frodo", "merry", "sam"}));
}

}  // namespace
}  // namespace sagaflow::text
