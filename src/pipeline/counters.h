// Counters of a running pipeline, the same four for every component (as
// Vector's component_received/sent/errors/discarded): a source, the analyze
// transform and a sink each report
//   received  records that entered the component
//   sent      records it passed on (source, transform) or stored (sink)
//   errors    records it could not handle: read errors (source), rejected
//             events routed to the dead-letter table (transform), rows of
//             failed writes (sink)
//   dropped   records deliberately not passed on: already committed and
//             skipped on resume (source), duplicates ignored by the store's
//             unique key (sink)
// plus pipeline totals (events, empty, rejected by reason, bytes).
// All members are atomics: written by pipeline threads, read by anyone
// (progress line, summary, a metrics endpoint) at any time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "events/event.h"
#include "pipeline/latency.h"

namespace sagaflow::pipeline {

struct ComponentCounters {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> dropped{0};
};

struct ComponentSnapshot {
  std::string component;  // "source", "analyze", "sink"
  std::string kind;       // e.g. "file", "sqlite"
  uint64_t received = 0, sent = 0, errors = 0, dropped = 0;
};

struct CountersSnapshot {
  std::vector<ComponentSnapshot> components;
  uint64_t records = 0;  // records read
  uint64_t bytes = 0;    // payload bytes read
  // Committed batches only (what the store holds from this run):
  uint64_t classified = 0;  // events with a saga
  uint64_t empty = 0;       // events with a blank text
  uint64_t rejected = 0;    // records in the dead-letter table
  uint64_t duplicates = 0;  // records the store already held
  uint64_t skipped = 0;     // records passed on resume (committed by an earlier run)
  uint64_t batches = 0;     // batches committed
  std::array<uint64_t, events::kRejectReasonCount> rejected_by_reason{};
};

class PipelineCounters {
 public:
  PipelineCounters(std::string source_kind, std::string sink_kind)
      : source_kind_(std::move(source_kind)), sink_kind_(std::move(sink_kind)) {}

  ComponentCounters source, analyze, sink;
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> classified{0}, empty{0}, batches{0};
  std::array<std::atomic<uint64_t>, events::kRejectReasonCount> rejected_by_reason{};
  // From a batch's first record read to the store's acknowledgement.
  LatencyHistogram batch_seconds;

  CountersSnapshot Snapshot() const;

 private:
  std::string source_kind_, sink_kind_;
};

}  // namespace sagaflow::pipeline
