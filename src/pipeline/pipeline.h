// Pipeline: source -> analyze (parse, validate, classify, count mentions) ->
// sink, in batches, on threads:
//
//   reader thread   pulls records from the source and copies them into the
//                   open batch; a batch is sealed when it holds
//                   batch_records records or batch_bytes bytes, or when it
//                   has been open for `linger` (so a slow stream still
//                   commits promptly);
//   worker threads  analyze sealed batches in parallel (one Analyzer each);
//   commit thread   (the caller of Run) writes analyzed batches to the sink
//                   strictly in sequence order, then acknowledges them to
//                   the source.
//
// Checkpoints travel inside the batch that reached them, so the sink stores
// them in the same transaction as the rows: a crash at any moment loses only
// uncommitted batches, which the next run reads again. At most
// max_batches_in_flight batches exist at once, bounding memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "pipeline/counters.h"
#include "pipeline/dimensions.h"
#include "pipeline/sink.h"
#include "sources/source.h"
#include "util/status.h"

namespace sagaflow::text {
class Classifier;
class EntityMatcher;
}  // namespace sagaflow::text

namespace sagaflow::pipeline {

struct PipelineOptions {
  size_t workers = 2;
  size_t batch_records = 2048;
  size_t batch_bytes = 8 << 20;
  std::chrono::milliseconds linger{200};
  size_t max_record_bytes = events::kDefaultMaxEventBytes;
  size_t max_batches_in_flight = 0;  // 0 = workers + 2
  // Stop (committing everything) once the source has been idle, caught up
  // with nothing new, for this long; 0 = never (backfills and tests).
  std::chrono::milliseconds stop_when_idle{0};
  // With a source that keeps positions of its own (Kafka), the sink's
  // acknowledgements must survive power loss (Sink::RequirePowerLossDurability).
  // false only to measure what that costs (bench kafka --fast-acks).
  bool power_loss_durable_acks = true;
};

class Pipeline {
 public:
  Pipeline(sources::Source& source, Sink& sink, const text::Classifier& classifier, const text::EntityMatcher& matcher,
           const Dimensions& dimensions, PipelineOptions options, PipelineCounters* counters);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Prepares the sink, starts the source from its committed checkpoints and
  // runs until the source ends or a stop is requested; everything read is
  // committed before it returns. Returns the first error of any stage (what
  // was committed before it stays committed).
  Status Run();

  // Stops reading, commits what was read and ends Run(). Thread-safe (not
  // async-signal-safe: call it from a thread that waits for signals).
  void RequestStop() noexcept;

  // Stops without waiting for the store: reading ends as with RequestStop(),
  // and a write the store has not acknowledged (one retrying through an
  // outage) is abandoned (Sink::Abandon). Run() then returns kUnavailable;
  // what was not stored is not acknowledged to the source either, so the
  // next run reads it again. Thread-safe.
  void Abandon() noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sagaflow::pipeline
