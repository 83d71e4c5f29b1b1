// Classifier: a linear text model (docs/model-format.md) that reproduces a
// scikit-learn Pipeline(vectorizer, classifier) exactly: same tokens, same
// float64 feature values and the same summation order, so decision scores
// match sklearn's decision_function (or MultinomialNB's joint log
// likelihood) to the last bit in practice and labels match always.
//
// Immutable after loading; Predict is const, allocation-free in steady state
// (thread-local scratch) and safe to call from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"
#include "util/status.h"

namespace sagaflow::text {

struct ClassifierOptions {
  // Count tokens with the AVX2 build of the scan when the CPU has AVX2 and
  // BMI2. Off = the portable build, which gives the same scores (tests run
  // both).
  bool simd = true;
};

class Classifier {
 public:
  // Reads and validates a model file; errors name the file and the field.
  static Result<Classifier> LoadFile(const std::string& path);
  static Result<Classifier> FromJson(std::string_view json);
  static Result<Classifier> FromJson(std::string_view json, const ClassifierOptions& options);

  Classifier(Classifier&&) noexcept;
  Classifier& operator=(Classifier&&) noexcept;
  ~Classifier();

  const std::vector<std::string>& labels() const noexcept;
  const Tokenizer& tokenizer() const noexcept;
  size_t num_features() const noexcept;

  // Writes the decision score of `text` (valid UTF-8, under 4 GiB) for each label, in
  // labels() order, to scores[0 .. labels().size()), and returns the index
  // of the predicted label: the first maximum (numpy argmax), as sklearn.
  // Binary models (one coefficient row, two labels) write {-d, d} for
  // sklearn's single decision value d, which keeps "first maximum" equal to
  // sklearn's rule labels[d > 0].
  int Predict(std::string_view text, double* scores) const noexcept;

 private:
  struct Impl;
  explicit Classifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sagaflow::text
