// Parity of Classifier with scikit-learn: the shared prototype model on the
// whole corpus (against the recorded sklearn-predictions.tsv) and on
// generated Unicode-heavy texts (against sklearn run now), plus small
// pipelines of every supported kind trained at test time.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "text/classifier.h"
#include "text/python_reference_testing.h"

namespace sagaflow::text {
namespace {

using testing::CorpusDoc;
using testing::ExportModel;
using testing::GenerateTexts;
using testing::ParseJsonLines;
using testing::ReadCorpus;
using testing::RunReference;
using testing::ScratchDir;
using testing::TextsAsJsonl;

constexpr double kTolerance = 1e-9;

struct Parity {
  size_t texts = 0, label_mismatches = 0, bitwise_equal = 0;
  double max_abs_diff = 0;
};

// Compares Predict on `texts` with sklearn's labels and scores. Scores are
// sklearn's raw decision values: one per class, or one for a binary model.
// Scores are expected to be bitwise identical (same float64 operations in the
// same order) unless the model uses sublinear_tf: numpy's vectorized log may
// differ from libm's in the last bit.
Parity Compare(const Classifier& c, const std::vector<std::string>& texts, const std::vector<int>& labels,
               const std::vector<std::vector<double>>& sklearn_scores, const std::string& what,
               bool expect_bitwise = true) {
  Parity p;
  std::vector<double> scores(c.labels().size());
  for (size_t i = 0; i < texts.size(); ++i) {
    int label = c.Predict(texts[i], scores.data());
    std::vector<double> ours = scores;
    if (sklearn_scores[i].size() == 1) ours = {scores[1]};  // binary: d is reported as scores[1]
    EXPECT_EQ(ours.size(), sklearn_scores[i].size());
    bool equal = true;
    for (size_t k = 0; k < ours.size() && k < sklearn_scores[i].size(); ++k) {
      double d = std::fabs(ours[k] - sklearn_scores[i][k]);
      p.max_abs_diff = std::max(p.max_abs_diff, d);
      equal = equal && ours[k] == sklearn_scores[i][k];
    }
    p.bitwise_equal += equal;
    if (label != labels[i]) {
      ++p.label_mismatches;
      if (p.label_mismatches < 5) ADD_FAILURE() << what << ": text #" << i << " label " << label << " vs " << labels[i];
    }
    ++p.texts;
  }
  EXPECT_EQ(p.label_mismatches, 0u) << what;
  EXPECT_LE(p.max_abs_diff, kTolerance) << what;
  if (expect_bitwise) {
    EXPECT_EQ(p.bitwise_equal, p.texts) << what;
  }
  std::cout << "[parity] " << what << ": " << p.texts << " texts, " << p.label_mismatches
            << " label mismatches, max |score diff| " << p.max_abs_diff << ", " << p.bitwise_equal
            << " bitwise-identical score rows\n";
  return p;
}

// sklearn's predictions for `texts` with the pipeline in `joblib`, run now.
void SklearnPredict(const std::string& joblib, const std::vector<std::string>& texts, std::vector<int>* labels,
                    std::vector<std::vector<double>>* scores) {
  auto rows = ParseJsonLines(RunReference({"predict", joblib}, TextsAsJsonl(texts)));
  ASSERT_EQ(rows.size(), texts.size());
  for (const auto& r : rows) {
    labels->push_back(r["label"].get<int>());
    scores->push_back(r["scores"].get<std::vector<double>>());
  }
}

Classifier Export(const std::string& joblib, const std::string& out, const std::string& labels = "") {
  EXPECT_EQ(ExportModel(joblib, out, labels), 0) << joblib;
  auto c = Classifier::LoadFile(out);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

// Vocabulary words of a model, to salt generated texts with.
std::vector<std::string> Words(const std::string& model_json, size_t max) {
  auto j = nlohmann::json::parse(testing::ReadFile(model_json));
  std::vector<std::string> words;
  for (const auto& t : j["vectorizer"]["terms"]) {
    if (words.size() >= max) break;
    words.push_back(t.get<std::string>());
  }
  return words;
}

TEST(ClassifierParityTest, SharedModelMatchesRecordedSklearnPredictionsOnCorpus) {
  SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
  SAGAFLOW_REQUIRE_SHARED(tsv, "models/sklearn-predictions.tsv");
  SAGAFLOW_REQUIRE_SHARED(corpus, "corpus/texts.jsonl");
  ScratchDir dir;
  Classifier c = Export(joblib, dir.File("model.json"), "got,lotr,hp");
  ASSERT_EQ(c.labels(), (std::vector<std::string>{"got", "lotr", "hp"}));

  std::map<std::string, std::pair<int, std::vector<double>>> expected;
  std::istringstream in(testing::ReadFile(tsv));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, label, s0, s1, s2;
    std::getline(f, id, '\t');
    std::getline(f, label, '\t');
    std::getline(f, s0, '\t');
    std::getline(f, s1, '\t');
    std::getline(f, s2, '\t');
    int index = label == "got" ? 0 : label == "lotr" ? 1 : label == "hp" ? 2 : -1;
    ASSERT_GE(index, 0) << line;
    expected[id] = {index, {std::stod(s0), std::stod(s1), std::stod(s2)}};
  }
  std::vector<CorpusDoc> docs = ReadCorpus(corpus);
  ASSERT_EQ(docs.size(), 2286u);
  ASSERT_EQ(expected.size(), docs.size());
  std::vector<std::string> texts;
  std::vector<int> labels;
  std::vector<std::vector<double>> scores;
  for (const CorpusDoc& d : docs) {
    auto it = expected.find(d.id);
    ASSERT_NE(it, expected.end()) << d.id;
    texts.push_back(d.text);
    labels.push_back(it->second.first);
    scores.push_back(it->second.second);
  }
  Parity p = Compare(c, texts, labels, scores, "shared model, corpus vs sklearn-predictions.tsv");
  EXPECT_EQ(p.texts, 2286u);
}

TEST(ClassifierParityTest, SharedModelMatchesSklearnOnGeneratedTexts) {
  SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
  ScratchDir dir;
  Classifier c = Export(joblib, dir.File("model.json"), "got,lotr,hp");
  std::vector<std::string> texts = GenerateTexts(4000, Words(dir.File("model.json"), 500), 1);
  std::vector<int> labels;
  std::vector<std::vector<double>> scores;
  SklearnPredict(joblib, texts, &labels, &scores);
  Compare(c, texts, labels, scores, "shared model, generated texts");
  // The generated texts do reach every label (the comparison is not vacuous).
  std::set<int> seen(labels.begin(), labels.end());
  EXPECT_EQ(seen.size(), 3u);
}

// Pipelines of every supported kind, fitted now on half the corpus (targets:
// the prototype's labels), compared on the other half and on generated texts.
TEST(ClassifierParityTest, TrainedPipelinesMatchSklearn) {
  SAGAFLOW_REQUIRE_SHARED(tsv, "models/sklearn-predictions.tsv");
  SAGAFLOW_REQUIRE_SHARED(corpus, "corpus/texts.jsonl");
  ScratchDir dir;
  std::string names = RunReference({"train", corpus, tsv, dir.File("")}, "");
  std::vector<CorpusDoc> docs = ReadCorpus(corpus);
  std::istringstream in(names);
  std::string name;
  size_t pipelines = 0;
  while (std::getline(in, name)) {
    if (name.empty()) continue;
    ++pipelines;
    std::string joblib = dir.File(name + ".joblib"), model = dir.File(name + ".json");
    Classifier c = Export(joblib, model);
    std::vector<std::string> texts;
    for (size_t i = 1; i < docs.size(); i += 2) texts.push_back(docs[i].text);  // not fitted on
    for (std::string& t : GenerateTexts(1000, Words(model, 2000), 2)) texts.push_back(std::move(t));
    std::vector<int> labels;
    std::vector<std::vector<double>> scores;
    SklearnPredict(joblib, texts, &labels, &scores);
    auto vectorizer = nlohmann::json::parse(testing::ReadFile(model))["vectorizer"];
    bool sublinear = vectorizer.contains("tfidf") && vectorizer["tfidf"]["sublinear_tf"].get<bool>();
    Compare(c, texts, labels, scores, name, /*expect_bitwise=*/!sublinear);
  }
  EXPECT_EQ(pipelines, 7u);
}

}  // namespace
}  // namespace sagaflow::text
