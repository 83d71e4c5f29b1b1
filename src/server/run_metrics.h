// The monitoring families of `run --http-port` beyond the pipeline's
// counters (server/pipeline_metrics.h):
//   sagaflow_batch_duration_seconds                       histogram: a batch's first record read -> stored and
//   acknowledged sagaflow_store_insert_duration_seconds{store,table}   histogram: one write request (ClickHouse: per
//   table;
//                                                         SQLite: table="batch", one transaction)
//   sagaflow_store_up{store}                              gauge: 1 while the store's requests succeed, 0 from a
//                                                         failed (retried) one until one succeeds
//   sagaflow_kafka_consumer_lag{topic,partition}          gauge: records of an assigned partition not yet stored
//   sagaflow_kafka_consumer_committed_offset{topic,partition}, sagaflow_kafka_partition_end_offset{topic,partition}
#pragma once

#include "pipeline/counters.h"
#include "pipeline/latency.h"
#include "server/metrics.h"
#include "sources/source.h"

namespace sagaflow::server {

// Appends one histogram sample set (the family line is the caller's).
void AppendLatencySamples(std::string_view name, const std::vector<std::string>& label_names,
                          const std::vector<std::string>& label_values, const pipeline::LatencyHistogram::Snapshot& s,
                          MetricsText& out);

// Collectors for MetricsRegistry::AddCollector; what they read must outlive them.
MetricsRegistry::Collector BatchLatencyCollector(const pipeline::PipelineCounters* counters);
// `stats` may be null (a store that keeps none): the families are still
// declared, without samples.
MetricsRegistry::Collector StoreCollector(const pipeline::StoreStats* stats);
// Streams whose key is "kafka:CLUSTER/TOPIC/PARTITION" (sources/kafka_source.h).
MetricsRegistry::Collector ConsumerLagCollector(const sources::Source* source);

}  // namespace sagaflow::server
