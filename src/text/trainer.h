// The native trainer behind `sagaflow train`: fits the model scikit-learn's
// Pipeline(CountVectorizer(...), LinearSVC()) fits, and writes it in the
// model format of docs/model-format.md, so Classifier loads it like an
// exported scikit-learn model.
//
//   vocabulary:  count_vocabulary.h (CountVectorizer.fit, same tokenizer as
//                the Classifier: text/tokenizer.h)
//   classifier:  linear_svm.h, one-vs-rest (one binary problem per label,
//                +1 for the label, -1 for the rest) as liblinear does for
//                LinearSVC with 3+ labels; with 2 labels one problem with +1
//                for labels[1] (the "binary" scheme, sklearn's coef_ of 1 row).
//
// Everything is deterministic: the same data and options give the same model
// file byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/count_vocabulary.h"
#include "text/linear_svm.h"
#include "text/tokenizer.h"
#include "util/status.h"

namespace sagaflow::text {

struct LabelledText {
  std::string text;
  std::string label;
  uint64_t line = 0;  // where it was read (1-based), 0 when not read from a file
};

// Reads JSON lines {"text": string, "label": string or integer, ...} (other
// fields such as "id" are ignored). A line that is not such an object
// (malformed JSON, invalid UTF-8, missing or mistyped field, empty label) is
// reported through on_rejected("line N: why") and skipped; blank lines are
// skipped silently. I/O errors fail the whole read.
Result<std::vector<LabelledText>> ReadLabelledJsonl(const std::string& path,
                                                    const std::function<void(const std::string&)>& on_rejected);

struct TrainerOptions {
  TokenizerOptions tokenizer;            // lowercase, token_pattern, ngram range, stop words
  std::string stop_words_name = "none";  // how stop words were chosen, for provenance only
  VocabularyOptions vocabulary;
  SvmOptions svm;
  // Class order (coefficient rows, the model's labels). Empty: the distinct
  // labels in order of first appearance in the data. When given, every
  // label must occur in the data and every document's label must be listed.
  std::vector<std::string> labels;
};

// The documents, tokenized once, with their labels as indices into labels().
class TrainingSet {
 public:
  static Result<TrainingSet> Create(std::span<const LabelledText> docs, const TrainerOptions& options);

  size_t size() const noexcept { return label_of_.size(); }
  const std::vector<std::string>& labels() const noexcept { return labels_; }
  uint32_t label_of(size_t doc) const noexcept { return label_of_[doc]; }
  const TermCounts& counts() const noexcept { return counts_; }

 private:
  TrainingSet(std::vector<std::string> labels, std::vector<uint32_t> label_of, TermCounts counts)
      : labels_(std::move(labels)), label_of_(std::move(label_of)), counts_(std::move(counts)) {}
  std::vector<std::string> labels_;
  std::vector<uint32_t> label_of_;
  TermCounts counts_;
};

struct TrainedModel {
  std::vector<std::string> labels;
  std::vector<std::string> terms;            // feature order
  std::vector<TermCounts::TermId> term_ids;  // the same terms as ids of the TrainingSet
  std::vector<std::vector<double>> coef;     // one row per label; 1 row for 2 labels
  std::vector<double> intercept;
  std::vector<int> iterations;  // solver passes per row
  bool converged = true;        // every row met the tolerance

  // Decision scores and the predicted label index of vectorized rows, with
  // Classifier's arithmetic (docs/model-format.md, "Prediction semantics").
  int Predict(const SparseRows& x, size_t row, double* scores) const noexcept;
};

// Fits on the documents `docs` of `set` (indices; all of them for the final
// model).
Result<TrainedModel> Fit(const TrainingSet& set, std::span<const uint32_t> docs, const TrainerOptions& options);

// The model file (docs/model-format.md); `provenance` is a JSON object text
// written verbatim as the "provenance" member.
std::string ModelJson(const TrainedModel& model, const TrainerOptions& options, std::string_view provenance);

// k-fold cross-validation: folds stratified by label (each label's documents
// shuffled with std::mt19937(seed), then dealt to the folds round-robin), the
// vocabulary and classifier refitted on every training part, as
// cross_val_score(Pipeline(...)) does.
struct CrossValidation {
  int folds = 0;
  std::vector<size_t> fold_size;
  std::vector<size_t> fold_correct;
  // confusion[true label][predicted label], summed over the folds.
  std::vector<std::vector<size_t>> confusion;
  size_t total() const noexcept;
  size_t correct() const noexcept;
};
Result<CrossValidation> CrossValidate(const TrainingSet& set, const TrainerOptions& options, int folds, uint32_t seed);

}  // namespace sagaflow::text
