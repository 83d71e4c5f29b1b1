// Vocabulary selection exactly as scikit-learn's CountVectorizer.fit
// (scikit-learn 1.2, numpy 1.24): terms are the Tokenizer's terms; a term is
// kept when min_df <= document frequency <= max_df (each an absolute count or
// a proportion of the documents); when more than max_features remain, the
// max_features with the highest total counts are kept, ties broken as
// `(-tfs).argsort()[:max_features]` breaks them (numpy's introsort, which is
// not stable); the result is in ascending term order (Python code point order
// = UTF-8 byte order), which is the feature order.
//
// TermCounts tokenizes every document once; vocabularies and count matrices
// for any subset of the documents (cross-validation folds) are then built
// from those counts without tokenizing again. Immutable after Build.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/linear_svm.h"
#include "text/tokenizer.h"
#include "util/status.h"

namespace sagaflow::text {

// min_df / max_df: an integer is a number of documents, a number with a '.'
// or an exponent is a proportion in [0, 1] (scikit-learn's int vs float).
struct DocumentFrequencyBound {
  bool proportion = false;
  double value = 1;

  static DocumentFrequencyBound Count(int64_t n) { return {false, static_cast<double>(n)}; }
  static DocumentFrequencyBound Proportion(double p) { return {true, p}; }
  // Parses "10" or "0.7"; errors name `flag`.
  static Result<DocumentFrequencyBound> Parse(std::string_view text, std::string_view flag);
  // The bound as scikit-learn compares it: value, or value * documents.
  double Threshold(size_t documents) const noexcept { return proportion ? value * documents : value; }
  std::string ToString() const;  // "10" or "0.7"
};

struct VocabularyOptions {
  DocumentFrequencyBound min_df = DocumentFrequencyBound::Count(1);
  DocumentFrequencyBound max_df = DocumentFrequencyBound::Proportion(1.0);
  size_t max_features = 0;  // 0 = no limit
};

class TermCounts {
 public:
  using TermId = uint32_t;

  static TermCounts Build(const Tokenizer& tokenizer, std::span<const std::string_view> texts);

  size_t documents() const noexcept { return doc_begin_.size() - 1; }
  // Every distinct term of all documents, by id (ids in order of first occurrence).
  const std::vector<std::string>& terms() const noexcept { return terms_; }

  // CountVectorizer.fit on the documents `docs` (indices into Build's texts):
  // the selected term ids in ascending term order. Errors as scikit-learn's
  // (empty vocabulary, max_df below min_df, nothing left after pruning).
  Result<std::vector<TermId>> SelectVocabulary(std::span<const uint32_t> docs, const VocabularyOptions& options) const;

  // CountVectorizer.transform of `docs` with `vocabulary` (from
  // SelectVocabulary): one row per document, column j = count of
  // vocabulary[j], columns ascending.
  SparseRows Vectorize(std::span<const uint32_t> docs, std::span<const TermId> vocabulary) const;

 private:
  struct Entry {
    TermId term;
    uint32_t count;
  };
  std::vector<std::string> terms_;
  std::vector<uint64_t> doc_begin_{0};  // document d's entries: [doc_begin_[d], doc_begin_[d+1])
  std::vector<Entry> entries_;          // per document, ascending term id
};

// numpy.argsort(keys) with the default kind="quicksort" as numpy 1.24 runs it
// for int64 on every CPU (introsort: median-of-3 quicksort, insertion sort
// below 16 elements, heapsort past depth 2*log2(n)). Exposed for tests.
std::vector<uint32_t> NumpyArgsort(std::span<const int64_t> keys);

}  // namespace sagaflow::text
