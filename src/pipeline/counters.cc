#include "pipeline/counters.h"

namespace sagaflow::pipeline {

namespace {
ComponentSnapshot Take(const char* name, const std::string& kind, const ComponentCounters& c) {
  ComponentSnapshot s;
  s.component = name;
  s.kind = kind;
  s.received = c.received.load(std::memory_order_relaxed);
  s.sent = c.sent.load(std::memory_order_relaxed);
  s.errors = c.errors.load(std::memory_order_relaxed);
  s.dropped = c.dropped.load(std::memory_order_relaxed);
  return s;
}
}  // namespace

CountersSnapshot PipelineCounters::Snapshot() const {
  CountersSnapshot s;
  s.components.push_back(Take("source", source_kind_, source));
  s.components.push_back(Take("analyze", "classify+match", analyze));
  s.components.push_back(Take("sink", sink_kind_, sink));
  s.records = s.components[0].received;
  s.skipped = s.components[0].dropped;
  s.duplicates = s.components[2].dropped;
  s.bytes = bytes.load(std::memory_order_relaxed);
  s.classified = classified.load(std::memory_order_relaxed);
  s.empty = empty.load(std::memory_order_relaxed);
  s.batches = batches.load(std::memory_order_relaxed);
  for (size_t i = 0; i < rejected_by_reason.size(); ++i) {
    s.rejected_by_reason[i] = rejected_by_reason[i].load(std::memory_order_relaxed);
    s.rejected += s.rejected_by_reason[i];
  }
  return s;
}

}  // namespace sagaflow::pipeline
