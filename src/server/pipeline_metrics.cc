#include "server/pipeline_metrics.h"

#include <string>

namespace sagaflow::server {

void AppendPipelineMetrics(const pipeline::CountersSnapshot& s, MetricsText& out) {
  struct Field {
    const char* name;
    const char* help;
    uint64_t pipeline::ComponentSnapshot::*value;
  };
  static constexpr Field kFields[] = {
      {"sagaflow_component_received_total", "Records that entered a pipeline component",
       &pipeline::ComponentSnapshot::received},
      {"sagaflow_component_sent_total", "Records a component passed on (source, transform) or stored (sink)",
       &pipeline::ComponentSnapshot::sent},
      {"sagaflow_component_errors_total",
       "Records a component could not handle (read errors, rejected events, rows of failed writes)",
       &pipeline::ComponentSnapshot::errors},
      {"sagaflow_component_dropped_total",
       "Records deliberately not passed on (skipped on resume, duplicates ignored by the store)",
       &pipeline::ComponentSnapshot::dropped},
  };
  for (const Field& f : kFields) {
    out.Family(f.name, "counter", f.help);
    for (const auto& c : s.components) {
      out.Sample(f.name, {{"component", c.component}, {"kind", c.kind}}, static_cast<double>(c.*f.value));
    }
  }
  auto single = [&](const char* name, const char* help, uint64_t v) {
    out.Family(name, "counter", help);
    out.Sample(name, {}, static_cast<double>(v));
  };
  single("sagaflow_records_read_total", "Records read from the source", s.records);
  single("sagaflow_bytes_read_total", "Payload bytes read from the source", s.bytes);
  out.Family("sagaflow_events_total", "counter", "Events committed to the store, by status");
  out.Sample("sagaflow_events_total", {{"status", "classified"}}, static_cast<double>(s.classified));
  out.Sample("sagaflow_events_total", {{"status", "empty"}}, static_cast<double>(s.empty));
  out.Family("sagaflow_rejected_total", "counter", "Records committed to the dead-letter table, by reason");
  for (int i = 0; i < events::kRejectReasonCount; ++i) {
    out.Sample("sagaflow_rejected_total", {{"reason", events::RejectReasonName(static_cast<events::RejectReason>(i))}},
               static_cast<double>(s.rejected_by_reason[static_cast<size_t>(i)]));
  }
  single("sagaflow_duplicates_total", "Records the store already held (ignored)", s.duplicates);
  single("sagaflow_skipped_total", "Records passed on resume (committed by an earlier run)", s.skipped);
  single("sagaflow_batches_committed_total", "Batches committed to the store", s.batches);
}

MetricsRegistry::Collector PipelineCollector(const pipeline::PipelineCounters* counters) {
  return [counters](MetricsText& out) { AppendPipelineMetrics(counters->Snapshot(), out); };
}

}  // namespace sagaflow::server
