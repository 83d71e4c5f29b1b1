// The running pipeline's counters (pipeline/counters.h) as Prometheus
// families, for the /metrics of `run --http-port` (and of `serve` when a
// pipeline runs in the same process). Names (all counters):
//   sagaflow_component_received_total{component,kind}   and _sent_, _errors_,
//   sagaflow_component_dropped_total{component,kind}     per component
//   sagaflow_records_read_total, sagaflow_bytes_read_total
//   sagaflow_events_total{status="classified"|"empty"}   committed events
//   sagaflow_rejected_total{reason}                      dead letters by reason
//   sagaflow_duplicates_total, sagaflow_skipped_total, sagaflow_batches_committed_total
#pragma once

#include "pipeline/counters.h"
#include "server/metrics.h"

namespace sagaflow::server {

void AppendPipelineMetrics(const pipeline::CountersSnapshot& s, MetricsText& out);

// A collector for MetricsRegistry::AddCollector; `counters` must outlive it.
MetricsRegistry::Collector PipelineCollector(const pipeline::PipelineCounters* counters);

}  // namespace sagaflow::server
