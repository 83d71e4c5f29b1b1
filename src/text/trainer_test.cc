#include "text/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "text/classifier.h"
#include "text/english_stop_words.h"
#include "text/trainer_testing.h"

namespace sagaflow::text {
namespace {

using testing::RunPython;
using testing::ScratchDir;
using testing::SplitLines;

std::string Sample(const std::string& name) { return sagaflow::testing::SourceDir() + "/data/sample/" + name; }

std::vector<LabelledText> ReadSample(const std::string& name) {
  auto docs = ReadLabelledJsonl(Sample(name), [](const std::string& why) { ADD_FAILURE() << why; });
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  return docs.ok() ? std::move(*docs) : std::vector<LabelledText>{};
}

TrainerOptions EnglishOptions() {
  TrainerOptions options;
  for (std::string_view w : EnglishStopWords()) options.tokenizer.stop_words.emplace_back(w);
  options.stop_words_name = "english";
  return options;
}

std::vector<uint32_t> Range(size_t begin, size_t end) {
  std::vector<uint32_t> r;
  for (size_t i = begin; i < end; ++i) r.push_back(static_cast<uint32_t>(i));
  return r;
}

TEST(ReadLabelledJsonlTest, ReportsBadLinesWithNumbersAndKeepsGoodOnes) {
  ScratchDir dir;
  testing::WriteFile(dir.File("in.jsonl"),
                     "{\"id\": 1, \"text\": \"Frodo left the Shire.\", \"label\": \"lotr\"}\n"  // 1 ok
                     "\n"                                                                       // 2 blank: skipped
                     "{\"text\": \"Jon\", \"label\": 0}\n"                                      // 3 ok, int label
                     "{\"text\": \"no label\"}\n"                                               // 4
                     "{\"label\": \"hp\"}\n"                                                    // 5
                     "{\"text\": 5, \"label\": \"hp\"}\n"                                       // 6
                     "{\"text\": \"x\", \"label\": true}\n"                                     // 7
                     "{\"text\": \"x\", \"label\": \"\"}\n"                                     // 8
                     "[1, 2]\n"                                                                 // 9
                     "{\"text\": \"unterminated\n"                                              // 10
                     "{\"text\": \"\xff\xfe\", \"label\": \"hp\"}\n"                            // 11
                     "{\"text\": \"\", \"label\": \"hp\"}\n");                                  // 12 ok, empty text
  std::vector<std::string> rejected;
  auto docs = ReadLabelledJsonl(dir.File("in.jsonl"), [&](const std::string& why) { rejected.push_back(why); });
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0].label, "lotr");
  EXPECT_EQ((*docs)[0].line, 1u);
  EXPECT_EQ((*docs)[1].label, "0");
  EXPECT_EQ((*docs)[2].text, "");
  EXPECT_EQ((*docs)[2].line, 12u);
  ASSERT_EQ(rejected.size(), 8u);
  EXPECT_EQ(rejected[0], "line 4: missing field \"label\"");
  EXPECT_EQ(rejected[1], "line 5: missing field \"text\"");
  EXPECT_EQ(rejected[2], "line 6: field \"text\": must be a string");
  EXPECT_EQ(rejected[3], "line 7: field \"label\": must be a string or an integer");
  EXPECT_EQ(rejected[4], "line 8: field \"label\": empty");
  EXPECT_EQ(rejected[5], "line 9: not a JSON object");
  EXPECT_EQ(rejected[6].rfind("line 10: malformed JSON", 0), 0u) << rejected[6];
  EXPECT_EQ(rejected[7], "line 11: invalid UTF-8");

  auto missing = ReadLabelledJsonl(dir.File("absent.jsonl"), [](const std::string&) {});
  EXPECT_FALSE(missing.ok());
}

TEST(TrainingSetTest, LabelOrder) {
  std::vector<LabelledText> docs = {{"a b", "lotr", 1}, {"c d", "got", 2}, {"e f", "lotr", 3}, {"g h", "hp", 4}};
  TrainerOptions options;
  auto first_seen = TrainingSet::Create(docs, options);
  ASSERT_TRUE(first_seen.ok());
  EXPECT_EQ(first_seen->labels(), (std::vector<std::string>{"lotr", "got", "hp"}));
  EXPECT_EQ(first_seen->label_of(2), 0u);

  options.labels = {"got", "lotr", "hp"};
  auto fixed = TrainingSet::Create(docs, options);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->labels(), options.labels);
  EXPECT_EQ(fixed->label_of(0), 1u);

  options.labels = {"got", "lotr"};
  auto unknown = TrainingSet::Create(docs, options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("line 4: label 'hp'"), std::string::npos) << unknown.status().message();

  options.labels = {"got", "lotr", "hp", "dune"};
  auto unused = TrainingSet::Create(docs, options);
  ASSERT_FALSE(unused.ok());
  EXPECT_NE(unused.status().message().find("'dune' has no documents"), std::string::npos);

  options.labels = {"got", "got"};
  EXPECT_FALSE(TrainingSet::Create(docs, options).ok());

  std::vector<LabelledText> one_label = {{"a b", "got", 1}, {"c d", "got", 2}};
  EXPECT_FALSE(TrainingSet::Create(one_label, TrainerOptions{}).ok());
}

// The whole fit against scikit-learn: Pipeline(CountVectorizer(stop_words=
// "english"), LinearSVC()) on the original sample, both solved to a tight
// tolerance: same vocabulary, same coefficients (the optimum is unique).
void CompareWithScikitLearn(const std::vector<LabelledText>& docs, const std::string& name) {
  ScratchDir dir;
  std::string data;
  for (const LabelledText& d : docs) {
    data += d.label;
    data += '\t';
    data += d.text;
    data += '\n';
  }
  testing::WriteFile(dir.File("data.tsv"), data);
  TrainerOptions options = EnglishOptions();
  options.svm.tol = 1e-10;
  options.svm.max_iter = 1000000;
  auto set = TrainingSet::Create(docs, options);
  ASSERT_TRUE(set.ok());
  auto model = Fit(*set, Range(0, docs.size()), options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE(model->converged);

  std::string out = RunPython(dir, R"(
import sys
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
labels, texts = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    label, text = line.rstrip("\n").split("\t", 1)
    labels.append(label); texts.append(text)
p = make_pipeline(CountVectorizer(stop_words="english"), LinearSVC(tol=1e-10, max_iter=1000000)).fit(texts, labels)
v, m = p.steps[0][1], p.steps[1][1]
out = sys.stdout.buffer
out.write(("\t".join(sorted(v.vocabulary_, key=v.vocabulary_.get)) + "\n").encode("utf-8"))
rows = [m.classes_[1]] if len(m.classes_) == 2 else list(m.classes_)
for label, coef, b in zip(rows, m.coef_, m.intercept_):
    out.write((label + " " + repr(float(b)) + " " + " ".join(repr(float(c)) for c in coef) + "\n").encode())
)",
                              {dir.File("data.tsv")});
  std::vector<std::string> lines = SplitLines(out);
  ASSERT_GE(lines.size(), 2u);
  std::vector<std::string> terms;
  std::stringstream ts(lines[0]);
  for (std::string t; std::getline(ts, t, '\t');) terms.push_back(t);
  EXPECT_EQ(model->terms, terms) << name;
  ASSERT_EQ(lines.size() - 1, model->coef.size()) << name;
  for (size_t r = 1; r < lines.size(); ++r) {
    std::istringstream in(lines[r]);
    std::string label;
    double intercept;
    in >> label >> intercept;
    std::vector<double> coef;
    for (double c; in >> c;) coef.push_back(c);
    // Our row for `label`: one-vs-rest rows follow labels(); a binary model's
    // single row is for labels()[1].
    size_t row = 0;
    if (model->coef.size() > 1) {
      row = std::find(model->labels.begin(), model->labels.end(), label) - model->labels.begin();
      ASSERT_LT(row, model->labels.size()) << label;
    } else {
      ASSERT_EQ(model->labels[1], label) << name;
    }
    ASSERT_EQ(coef.size(), model->coef[row].size());
    double scale = std::fabs(intercept);
    for (double c : coef) scale = std::max(scale, std::fabs(c));
    for (size_t j = 0; j < coef.size(); ++j) {
      ASSERT_NEAR(model->coef[row][j], coef[j], 1e-6 * scale) << name << " " << label << " " << terms[j];
    }
    EXPECT_NEAR(model->intercept[row], intercept, 1e-6 * scale) << name << " " << label;
  }
}

TEST(TrainerTest, SameModelAsScikitLearnPipeline) {
  std::vector<LabelledText> docs = ReadSample("train.jsonl");
  ASSERT_EQ(docs.size(), 150u);
  CompareWithScikitLearn(docs, "three labels (one-vs-rest)");
  // Two labels: one row, positive = labels()[1] (sklearn: classes_[1]; "got"
  // appears first and sorts first, so both orders agree).
  std::vector<LabelledText> two;
  for (const LabelledText& d : docs) {
    if (d.label != "lotr") two.push_back(d);
  }
  CompareWithScikitLearn(two, "two labels (binary)");
}

// A model written by ModelJson and loaded by Classifier predicts exactly what
// the trainer predicts (bit-identical scores), on held-out and edge texts.
TEST(TrainerTest, ClassifierReproducesTrainerPredictions) {
  std::vector<LabelledText> docs = ReadSample("train.jsonl");
  const size_t train_size = docs.size();
  for (const LabelledText& d : ReadSample("test.jsonl")) docs.push_back(d);
  for (const char* text : {"", "   \t\n", "ÉOWYN rode to Minas Tirith; Hermione read; Tyrion drank.", "Ναί 😀 café"}) {
    docs.push_back({text, "got", 0});
  }
  for (bool binary : {false, true}) {
    std::vector<LabelledText> use;
    for (const LabelledText& d : docs) {
      if (!binary || d.label != "hp") use.push_back(d);
    }
    size_t train = 0;
    for (size_t i = 0; i < train_size; ++i) train += !binary || docs[i].label != "hp";
    TrainerOptions options = EnglishOptions();
    options.tokenizer.ngram_max = binary ? 2 : 1;  // also covers stop_words in the model file
    auto set = TrainingSet::Create(use, options);
    ASSERT_TRUE(set.ok());
    auto model = Fit(*set, Range(0, train), options);
    ASSERT_TRUE(model.ok());
    const std::string json = ModelJson(*model, options, R"({"written_by":"trainer_test"})");
    auto classifier = Classifier::FromJson(json);
    ASSERT_TRUE(classifier.ok()) << classifier.status().ToString();
    EXPECT_EQ(classifier->labels(), model->labels);
    EXPECT_EQ(classifier->num_features(), model->terms.size());
    std::vector<uint32_t> all = Range(0, use.size());
    SparseRows x = set->counts().Vectorize(all, model->term_ids);
    std::vector<double> ours(model->labels.size()), theirs(model->labels.size());
    size_t correct = 0, held_out = 0;
    for (uint32_t i : all) {
      int a = model->Predict(x, i, ours.data());
      int b = classifier->Predict(use[i].text, theirs.data());
      ASSERT_EQ(a, b) << "doc " << i;
      ASSERT_EQ(ours, theirs) << "doc " << i;
      if (i >= train && use[i].line != 0) {
        ++held_out;
        correct += model->labels[a] == use[i].label;
      }
    }
    // The sample is easy: held-out passages are classified well.
    EXPECT_GE(correct, held_out * 9 / 10) << (binary ? "binary" : "ovr");
    // Deterministic: the same data and options write the same file.
    auto again = Fit(*set, Range(0, train), options);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(ModelJson(*again, options, R"({"written_by":"trainer_test"})"), json);
  }
}

TEST(TrainerTest, CrossValidationIsStratifiedAndDeterministic) {
  std::vector<LabelledText> docs = ReadSample("train.jsonl");
  TrainerOptions options = EnglishOptions();
  auto set = TrainingSet::Create(docs, options);
  ASSERT_TRUE(set.ok());
  auto cv = CrossValidate(*set, options, 5, 0);
  ASSERT_TRUE(cv.ok()) << cv.status().ToString();
  EXPECT_EQ(cv->total(), docs.size());
  for (size_t s : cv->fold_size) EXPECT_EQ(s, 30u);  // 50 per label, dealt round-robin
  size_t confusion_total = 0, diagonal = 0;
  for (size_t t = 0; t < 3; ++t) {
    size_t support = 0;
    for (size_t p = 0; p < 3; ++p) support += cv->confusion[t][p];
    EXPECT_EQ(support, 50u);
    confusion_total += support;
    diagonal += cv->confusion[t][t];
  }
  EXPECT_EQ(confusion_total, docs.size());
  EXPECT_EQ(diagonal, cv->correct());
  EXPECT_GE(cv->correct(), docs.size() * 85 / 100);
  auto again = CrossValidate(*set, options, 5, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->fold_correct, cv->fold_correct);
  EXPECT_EQ(again->confusion, cv->confusion);
  EXPECT_FALSE(CrossValidate(*set, options, 1, 0).ok());
  EXPECT_FALSE(CrossValidate(*set, options, 151, 0).ok());
}

}  // namespace
}  // namespace sagaflow::text
