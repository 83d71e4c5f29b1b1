// Acceptance tests of the native trainer on the shared corpus (label
// integration): the prototype's texts labelled by the prototype model's own
// predictions, the prototype's vectorizer settings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "text/classifier.h"
#include "text/english_stop_words.h"
#include "text/trainer.h"
#include "text/trainer_testing.h"

namespace sagaflow::text {
namespace {

using testing::RunPython;
using testing::ScratchDir;
using testing::SplitLines;

// The corpus texts joined by id with the labels of sklearn-predictions.tsv.
std::vector<LabelledText> LabelledCorpus(const std::string& texts_path, const std::string& tsv_path) {
  std::unordered_map<std::string, std::string> label_of;
  std::ifstream tsv(tsv_path);
  std::string line;
  std::getline(tsv, line);  // header
  while (std::getline(tsv, line)) {
    std::istringstream fields(line);
    std::string id, label;
    std::getline(fields, id, '\t');
    std::getline(fields, label, '\t');
    label_of[id] = label;
  }
  std::vector<LabelledText> docs;
  std::ifstream texts(texts_path);
  uint64_t number = 0;
  while (std::getline(texts, line)) {
    ++number;
    nlohmann::json j = nlohmann::json::parse(line);
    auto it = label_of.find(j["id"].get<std::string>());
    EXPECT_NE(it, label_of.end()) << "no prediction for line " << number;
    if (it != label_of.end()) docs.push_back({j["text"].get<std::string>(), it->second, number});
  }
  return docs;
}

// The prototype's CountVectorizer(min_df=10, max_df=0.7, max_features=500,
// stop_words="english") + LinearSVC(), labels in its class order.
TrainerOptions PrototypeOptions() {
  TrainerOptions options;
  for (std::string_view w : EnglishStopWords()) options.tokenizer.stop_words.emplace_back(w);
  options.stop_words_name = "english";
  options.vocabulary.min_df = DocumentFrequencyBound::Count(10);
  options.vocabulary.max_df = DocumentFrequencyBound::Proportion(0.7);
  options.vocabulary.max_features = 500;
  options.labels = {"got", "lotr", "hp"};
  return options;
}

TEST(TrainerCorpusTest, FiveFoldAgreementWithPrototypeAtLeast99Percent) {
  SAGAFLOW_REQUIRE_SHARED(texts, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(tsv, "models/sklearn-predictions.tsv");
  std::vector<LabelledText> docs = LabelledCorpus(texts, tsv);
  ASSERT_EQ(docs.size(), 2286u);
  const TrainerOptions options = PrototypeOptions();
  auto set = TrainingSet::Create(docs, options);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto cv = CrossValidate(*set, options, 5, 0);
  ASSERT_TRUE(cv.ok()) << cv.status().ToString();
  const double agreement = static_cast<double>(cv->correct()) / cv->total();
  std::printf("5-fold agreement with the prototype's labels: %.4f (%zu of %zu)\n", agreement, cv->correct(),
              cv->total());
  EXPECT_GE(agreement, 0.99);
}

// Fitted on the whole corpus: the vocabulary is scikit-learn's exactly (500
// of ~20,000 terms, many tied counts), the coefficients are LinearSVC's to
// the solver tolerance, and Classifier, loading the written model, predicts
// exactly what the trainer predicts for every text.
TEST(TrainerCorpusTest, FullFitMatchesScikitLearnAndClassifierReproducesIt) {
  SAGAFLOW_REQUIRE_SHARED(texts, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(tsv, "models/sklearn-predictions.tsv");
  std::vector<LabelledText> docs = LabelledCorpus(texts, tsv);
  TrainerOptions options = PrototypeOptions();
  options.svm.tol = 1e-8;
  options.svm.max_iter = 100000;
  auto set = TrainingSet::Create(docs, options);
  ASSERT_TRUE(set.ok());
  std::vector<uint32_t> all(docs.size());
  for (uint32_t d = 0; d < all.size(); ++d) all[d] = d;
  auto model = Fit(*set, all, options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_TRUE(model->converged);
  ASSERT_EQ(model->terms.size(), 500u);

  ScratchDir dir;
  std::string out = RunPython(dir, R"(
import sys, json
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.svm import LinearSVC
label = {}
for i, line in enumerate(open(sys.argv[2])):
    f = line.split("\t")
    if i: label[f[0]] = f[1]
texts, y = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    texts.append(o["text"]); y.append(["got", "lotr", "hp"].index(label[o["id"]]))
v = CountVectorizer(min_df=10, max_df=0.7, max_features=500, stop_words="english")
X = v.fit_transform(texts)
m = LinearSVC(tol=1e-8, max_iter=100000).fit(X, y)
out = sys.stdout.buffer
out.write(("\t".join(sorted(v.vocabulary_, key=v.vocabulary_.get)) + "\n").encode("utf-8"))
for coef, b in zip(m.coef_, m.intercept_):
    out.write((repr(float(b)) + " " + " ".join(repr(float(c)) for c in coef) + "\n").encode())
)",
                              {texts, tsv});
  std::vector<std::string> lines = SplitLines(out);
  ASSERT_EQ(lines.size(), 4u);
  std::vector<std::string> terms;
  std::stringstream ts(lines[0]);
  for (std::string t; std::getline(ts, t, '\t');) terms.push_back(t);
  EXPECT_EQ(model->terms, terms);
  for (size_t k = 0; k < 3; ++k) {
    std::istringstream in(lines[k + 1]);
    double intercept;
    in >> intercept;
    std::vector<double> coef;
    for (double c; in >> c;) coef.push_back(c);
    ASSERT_EQ(coef.size(), 500u);
    double scale = std::fabs(intercept), diff = std::fabs(intercept - model->intercept[k]);
    for (size_t j = 0; j < coef.size(); ++j) {
      scale = std::max(scale, std::fabs(coef[j]));
      diff = std::max(diff, std::fabs(coef[j] - model->coef[k][j]));
    }
    EXPECT_LE(diff, 1e-5 * scale) << "label " << model->labels[k];
  }

  const std::string json = ModelJson(*model, options, R"({"written_by":"trainer_corpus_test"})");
  auto classifier = Classifier::FromJson(json);
  ASSERT_TRUE(classifier.ok()) << classifier.status().ToString();
  SparseRows x = set->counts().Vectorize(all, model->term_ids);
  std::vector<double> ours(3), theirs(3);
  size_t agree = 0;
  for (uint32_t d : all) {
    int a = model->Predict(x, d, ours.data());
    int b = classifier->Predict(docs[d].text, theirs.data());
    ASSERT_EQ(a, b) << "line " << docs[d].line;
    ASSERT_EQ(ours, theirs) << "line " << docs[d].line;
    agree += model->labels[a] == docs[d].label;
  }
  EXPECT_GE(agree, docs.size() * 99 / 100);
}

// `sagaflow train` end to end on the original sample: cross-validation report,
// a model file Classifier loads, bad lines reported with their numbers.
TEST(TrainCommandTest, TrainsOnTheSampleAndReportsBadLines) {
  ScratchDir dir;
  const std::string sample = sagaflow::testing::SourceDir() + "/data/sample/train.jsonl";
  const std::string model_path = dir.File("model.json");
  const std::string log = dir.File("stderr.txt");
  auto run = [&](const std::string& args) {
    const std::string cmd = std::string("'") + SAGAFLOW_BINARY + "' train " + args + " 2>'" + log + "'";
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(run("--data '" + sample + "' --out '" + model_path + "' --stop-words english --labels got,lotr,hp"), 0)
      << testing::ReadFile(log);
  const std::string report = testing::ReadFile(log);
  EXPECT_NE(report.find("5-fold cross-validation: accuracy"), std::string::npos) << report;
  EXPECT_NE(report.find("got: 50 documents"), std::string::npos) << report;
  auto classifier = Classifier::LoadFile(model_path);
  ASSERT_TRUE(classifier.ok()) << classifier.status().ToString();
  EXPECT_EQ(classifier->labels(), (std::vector<std::string>{"got", "lotr", "hp"}));
  std::vector<double> scores(3);
  EXPECT_EQ(classifier->labels()[classifier->Predict("Frodo and Sam walked to Mordor with the Ring", scores.data())],
            "lotr");

  // Same input and options: the same bytes.
  const std::string first = testing::ReadFile(model_path);
  ASSERT_EQ(run("--data '" + sample + "' --out '" + model_path + "' --stop-words english --labels got,lotr,hp"), 0);
  EXPECT_EQ(testing::ReadFile(model_path), first);

  // Bad lines: reported with their numbers and skipped; exit status 1.
  testing::WriteFile(dir.File("bad.jsonl"), testing::ReadFile(sample) + "{\"text\": \"no label\"}\nnot json\n");
  EXPECT_EQ(run("--data '" + dir.File("bad.jsonl") + "' --out '" + model_path + "' --folds 0"), 1);
  const std::string bad_report = testing::ReadFile(log);
  EXPECT_NE(bad_report.find("line 151: missing field \"label\""), std::string::npos) << bad_report;
  EXPECT_NE(bad_report.find("line 152: malformed JSON"), std::string::npos) << bad_report;
  EXPECT_TRUE(Classifier::LoadFile(model_path).ok());

  // Unusable input: no model, exit status 1; a bad option value: 2.
  EXPECT_EQ(run("--data '" + dir.File("absent.jsonl") + "' --out '" + dir.File("none.json") + "'"), 1);
  EXPECT_EQ(run("--data '" + sample + "' --out '" + dir.File("none.json") + "' --labels got,lotr"), 1);
  EXPECT_EQ(run("--data '" + sample + "' --out '" + dir.File("none.json") + "' --min-df 1.5"), 2);
  EXPECT_FALSE(std::filesystem::exists(dir.File("none.json")));
}

// `sagaflow bench text` runs end to end and reports every figure with its
// anchor (a smoke test: figures are checked for presence, never for speed).
TEST(BenchTextCommandTest, ReportsEveryFigureWithItsAnchor) {
  SAGAFLOW_REQUIRE_SHARED(texts, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
  ScratchDir dir;
  const std::string cmd = std::string("'") + SAGAFLOW_BINARY + "' bench text --shared '" +
                          sagaflow::testing::SharedDir() + "' --python '" + sagaflow::testing::Python() +
                          "' --repetitions 1 --seconds 0.01 --format json > '" + dir.File("out.json") + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  nlohmann::json j = nlohmann::json::parse(testing::ReadFile(dir.File("out.json")));
  EXPECT_EQ(j["documents"], 2286);
  ASSERT_EQ(j["results"].size(), 3u);
  for (const auto& r : j["results"]) {
    EXPECT_GT(r["mb_per_s"].get<double>(), 0) << r.dump();
    EXPECT_GT(r["anchor_mb_per_s"].get<double>(), 0) << r.dump();
    EXPECT_NEAR(r["ratio"].get<double>(), r["mb_per_s"].get<double>() / r["anchor_mb_per_s"].get<double>(), 1e-9);
  }
}

}  // namespace
}  // namespace sagaflow::text
