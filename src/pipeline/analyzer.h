// Analyzer: the transform of the pipeline. Turns one record into rows of a
// Batch: parse and validate (events::EventParser), then for a non-blank text
// classify it into a saga and count its entity mentions; blank texts become
// "empty" events (no saga, no mentions) and invalid records dead letters.
//
// One Analyzer per worker thread (it owns a parser and scratch buffers); the
// classifier, matcher and dimensions are shared, read-only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "events/event_parser.h"
#include "pipeline/dimensions.h"
#include "pipeline/sink.h"
#include "sources/source.h"

namespace sagaflow::text {
class Classifier;
class EntityMatcher;
struct Mention;
}  // namespace sagaflow::text

namespace sagaflow::pipeline {

// Per-batch tallies of what the analyzer produced.
struct AnalyzeTally {
  uint64_t classified = 0;
  uint64_t empty = 0;
  std::array<uint64_t, events::kRejectReasonCount> rejected{};
  uint64_t Rejected() const;
};

// The analysis of one non-blank text (valid UTF-8), shared by the pipeline
// and the HTTP API (/v1/analyze): classifies it (one score per label into
// scores[0 .. labels)), then counts the mentions of the entities unscoped or
// scoped to the saga it was classified into, and appends them to *out as
// dimension rows (Dimensions::entities), one per row with count > 0: a
// dictionary listing an entity twice sums into one row. *scratch is reused
// between calls. Returns the label index. Thread-safe for distinct
// scratch/out (the models are read-only).
int AnalyzeText(const text::Classifier& classifier, const text::EntityMatcher& matcher, const Dimensions& dims,
                std::string_view text, double* scores, std::vector<text::Mention>* scratch,
                std::vector<MentionRow>* out);

class Analyzer {
 public:
  // The matcher's entity i is dimensions.entity_row[i]; the classifier's
  // label i is dimensions.sagas[i] (Dimensions::Build puts labels first).
  Analyzer(const text::Classifier& classifier, const text::EntityMatcher& matcher, const Dimensions& dimensions,
           size_t max_record_bytes);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Appends the rows for `record` (stream index already mapped by the caller
  // to `stream`) to *batch.
  void Process(const sources::Record& record, uint32_t stream, Batch* batch, AnalyzeTally* tally);

 private:
  void Reject(const sources::Record& record, uint32_t stream, events::RejectReason reason, std::string detail,
              Batch* batch, AnalyzeTally* tally);

  const text::Classifier& classifier_;
  const text::EntityMatcher& matcher_;
  const Dimensions& dims_;
  size_t max_record_bytes_;
  events::EventParser parser_;
  events::Rejection rejection_;
  std::vector<text::Mention> mentions_;
  std::vector<double> scores_;
};

}  // namespace sagaflow::pipeline
