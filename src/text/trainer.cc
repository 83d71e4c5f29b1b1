#include "text/trainer.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <random>
#include <unordered_map>

#include "io/line_reader.h"
#include "util/json_writer.h"

namespace sagaflow::text {

namespace sj = simdjson;

Result<std::vector<LabelledText>> ReadLabelledJsonl(const std::string& path,
                                                    const std::function<void(const std::string&)>& on_rejected) {
  auto lines = io::LineReader::Open(path);
  if (!lines.ok()) return lines.status();
  sj::dom::parser parser;
  std::vector<LabelledText> docs;
  io::LineReader::Line line;
  for (;;) {
    SAGAFLOW_RETURN_IF_ERROR((*lines)->Next(&line));
    if (line.kind == io::LineReader::Kind::kEnd) break;
    auto reject = [&](std::string_view why) { on_rejected(fmt::format("line {}: {}", line.number, why)); };
    if (line.kind == io::LineReader::Kind::kTooLong) {
      reject("line too long");
      continue;
    }
    if (line.text.find_first_not_of(" \t") == std::string_view::npos) continue;
    // LineReader guarantees kPadding readable bytes after every line.
    sj::dom::element root;
    if (auto e = parser.parse(line.text.data(), line.text.size(), false).get(root)) {
      reject(e == sj::UTF8_ERROR ? std::string("invalid UTF-8")
                                 : fmt::format("malformed JSON ({})", sj::error_message(e)));
      continue;
    }
    sj::dom::object obj;
    if (root.get(obj)) {
      reject("not a JSON object");
      continue;
    }
    LabelledText doc;
    doc.line = line.number;
    bool have_text = false, have_label = false;
    std::string why;
    for (auto [key, v] : obj) {
      if (key == "text") {
        if (!v.is_string()) {
          why = "field \"text\": must be a string";
          break;
        }
        doc.text = std::string(v.get_string().value_unsafe());
        have_text = true;
      } else if (key == "label") {
        if (v.is_string()) {
          doc.label = std::string(v.get_string().value_unsafe());
        } else if (v.is_int64()) {
          doc.label = std::to_string(v.get_int64().value_unsafe());
        } else {
          why = "field \"label\": must be a string or an integer";
          break;
        }
        have_label = true;
      }
    }
    if (why.empty() && !have_text) why = "missing field \"text\"";
    if (why.empty() && !have_label) why = "missing field \"label\"";
    if (why.empty() && doc.label.empty()) why = "field \"label\": empty";
    if (!why.empty()) {
      reject(why);
      continue;
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

Result<TrainingSet> TrainingSet::Create(std::span<const LabelledText> docs, const TrainerOptions& options) {
  std::vector<std::string> labels = options.labels;
  std::unordered_map<std::string, uint32_t> index;
  for (size_t k = 0; k < labels.size(); ++k) {
    if (labels[k].empty()) return Status::InvalidArgument("labels: empty label name");
    if (!index.emplace(labels[k], static_cast<uint32_t>(k)).second) {
      return Status::InvalidArgument(fmt::format("labels: '{}' listed twice", labels[k]));
    }
  }
  const bool fixed = !labels.empty();
  std::vector<uint32_t> label_of;
  std::vector<size_t> support(labels.size(), 0);
  label_of.reserve(docs.size());
  for (size_t d = 0; d < docs.size(); ++d) {
    auto it = index.find(docs[d].label);
    if (it == index.end()) {
      if (fixed) {
        return Status::InvalidArgument(fmt::format("{} {}: label '{}' is not one of the given labels",
                                                   docs[d].line ? "line" : "document",
                                                   docs[d].line ? docs[d].line : d + 1, docs[d].label));
      }
      it = index.emplace(docs[d].label, static_cast<uint32_t>(labels.size())).first;
      labels.push_back(docs[d].label);
      support.push_back(0);
    }
    label_of.push_back(it->second);
    ++support[it->second];
  }
  for (size_t k = 0; k < labels.size(); ++k) {
    if (support[k] == 0) return Status::InvalidArgument(fmt::format("label '{}' has no documents", labels[k]));
  }
  if (labels.size() < 2) {
    return Status::InvalidArgument(fmt::format("need documents of at least 2 labels, got {}", labels.size()));
  }
  auto tokenizer = Tokenizer::Create(options.tokenizer);
  if (!tokenizer.ok()) return tokenizer.status();
  std::vector<std::string_view> texts;
  texts.reserve(docs.size());
  for (const LabelledText& doc : docs) texts.push_back(doc.text);
  return TrainingSet(std::move(labels), std::move(label_of), TermCounts::Build(*tokenizer, texts));
}

int TrainedModel::Predict(const SparseRows& x, size_t row, double* scores) const noexcept {
  const size_t rows = coef.size();
  for (size_t k = 0; k < rows; ++k) {
    double sum = 0;
    for (uint64_t e = x.row_begin[row]; e < x.row_begin[row + 1]; ++e) sum += x.value[e] * coef[k][x.col[e]];
    scores[k] = sum + intercept[k];
  }
  if (rows == 1) {  // binary: sklearn's single decision value d for labels[1]
    const double d = scores[0];
    scores[0] = -d;
    scores[1] = d;
    return d > 0 ? 1 : 0;
  }
  return static_cast<int>(std::max_element(scores, scores + rows) - scores);
}

Result<TrainedModel> Fit(const TrainingSet& set, std::span<const uint32_t> docs, const TrainerOptions& options) {
  auto vocabulary = set.counts().SelectVocabulary(docs, options.vocabulary);
  if (!vocabulary.ok()) return vocabulary.status();
  TrainedModel model;
  model.labels = set.labels();
  model.term_ids = std::move(*vocabulary);
  for (TermCounts::TermId t : model.term_ids) model.terms.push_back(set.counts().terms()[t]);
  const SparseRows x = set.counts().Vectorize(docs, model.term_ids);

  // liblinear trains one problem for 2 classes (positive = the second label,
  // as scikit-learn arranges it), else one per class.
  const size_t problems = model.labels.size() == 2 ? 1 : model.labels.size();
  std::vector<int8_t> y(docs.size());
  for (size_t p = 0; p < problems; ++p) {
    const uint32_t positive = problems == 1 ? 1 : static_cast<uint32_t>(p);
    for (size_t i = 0; i < docs.size(); ++i) y[i] = set.label_of(docs[i]) == positive ? 1 : -1;
    BinarySvm svm = SolveL2LossSvm(x, y, options.svm);
    model.coef.push_back(std::move(svm.weights));
    model.intercept.push_back(svm.intercept);
    model.iterations.push_back(svm.iterations);
    model.converged = model.converged && svm.converged;
  }
  return model;
}

std::string ModelJson(const TrainedModel& model, const TrainerOptions& options, std::string_view provenance) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("format");
  w.String("sagaflow-text-classifier");
  w.Key("version");
  w.Int(1);
  w.Key("labels");
  w.BeginArray();
  for (const std::string& label : model.labels) w.String(label);
  w.EndArray();

  const TokenizerOptions& tok = options.tokenizer;
  w.Key("vectorizer");
  w.BeginObject();
  w.Key("type");
  w.String("count");
  w.Key("lowercase");
  w.Bool(tok.lowercase);
  w.Key("token_pattern");
  w.String(tok.token_pattern);
  w.Key("ngram_range");
  w.BeginArray();
  w.Int(tok.ngram_min);
  w.Int(tok.ngram_max);
  w.EndArray();
  w.Key("binary");
  w.Bool(false);
  // Stop words only shape n-grams of 2+ tokens; unigram vocabularies already
  // exclude them (docs/model-format.md).
  if (tok.ngram_max > 1 && !tok.stop_words.empty()) {
    w.Key("stop_words");
    w.BeginArray();
    for (const std::string& s : tok.stop_words) w.String(s);
    w.EndArray();
  }
  w.Key("terms");
  w.BeginArray();
  for (const std::string& t : model.terms) w.String(t);
  w.EndArray();
  w.EndObject();

  w.Key("classifier");
  w.BeginObject();
  w.Key("kind");
  w.String("LinearSVC");
  w.Key("scheme");
  w.String(model.coef.size() == 1 ? "binary" : "ovr");
  w.Key("coef");
  w.BeginArray();
  for (const std::vector<double>& row : model.coef) {
    w.BeginArray();
    for (double v : row) w.Double(v);
    w.EndArray();
  }
  w.EndArray();
  w.Key("intercept");
  w.BeginArray();
  for (double v : model.intercept) w.Double(v);
  w.EndArray();
  w.EndObject();

  w.Key("provenance");
  out.append(provenance);
  w.EndObject();
  out.push_back('\n');
  return out;
}

size_t CrossValidation::total() const noexcept {
  size_t n = 0;
  for (size_t s : fold_size) n += s;
  return n;
}

size_t CrossValidation::correct() const noexcept {
  size_t n = 0;
  for (size_t s : fold_correct) n += s;
  return n;
}

Result<CrossValidation> CrossValidate(const TrainingSet& set, const TrainerOptions& options, int folds, uint32_t seed) {
  if (folds < 2 || static_cast<size_t>(folds) > set.size()) {
    return Status::InvalidArgument(fmt::format("folds: need 2 <= folds <= {} documents, got {}", set.size(), folds));
  }
  const size_t labels = set.labels().size();
  std::vector<std::vector<uint32_t>> by_label(labels);
  for (uint32_t d = 0; d < set.size(); ++d) by_label[set.label_of(d)].push_back(d);
  std::mt19937 rng(seed);
  std::vector<int> fold_of(set.size());
  size_t dealt = 0;
  for (std::vector<uint32_t>& docs : by_label) {
    for (size_t i = docs.size(); i > 1; --i) std::swap(docs[i - 1], docs[rng() % i]);  // Fisher-Yates
    for (uint32_t d : docs) fold_of[d] = static_cast<int>(dealt++ % folds);
  }

  CrossValidation cv;
  cv.folds = folds;
  cv.confusion.assign(labels, std::vector<size_t>(labels, 0));
  std::vector<double> scores(labels);
  for (int f = 0; f < folds; ++f) {
    std::vector<uint32_t> train, test;
    for (uint32_t d = 0; d < set.size(); ++d) (fold_of[d] == f ? test : train).push_back(d);
    auto model = Fit(set, train, options);
    if (!model.ok()) return model.status().WithContext(fmt::format("fold {}", f + 1));
    const SparseRows x = set.counts().Vectorize(test, model->term_ids);
    size_t correct = 0;
    for (size_t i = 0; i < test.size(); ++i) {
      const int predicted = model->Predict(x, i, scores.data());
      const uint32_t truth = set.label_of(test[i]);
      ++cv.confusion[truth][predicted];
      correct += static_cast<uint32_t>(predicted) == truth;
    }
    cv.fold_size.push_back(test.size());
    cv.fold_correct.push_back(correct);
  }
  return cv;
}

}  // namespace sagaflow::text
