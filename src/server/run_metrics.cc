#include "server/run_metrics.h"

#include <fmt/format.h>

#include <string>

namespace sagaflow::server {

void AppendLatencySamples(std::string_view name, const std::vector<std::string>& label_names,
                          const std::vector<std::string>& label_values, const pipeline::LatencyHistogram::Snapshot& s,
                          MetricsText& out) {
  const std::string bucket = std::string(name) + "_bucket";
  const auto& bounds = pipeline::LatencyHistogram::kBounds;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    const std::string le = i < bounds.size() ? fmt::format("{}", bounds[i]) : "+Inf";
    out.Sample(bucket, label_names, label_values, static_cast<double>(s.cumulative[i]), {"le", le});
  }
  out.Sample(std::string(name) + "_sum", label_names, label_values, s.sum);
  out.Sample(std::string(name) + "_count", label_names, label_values, static_cast<double>(s.count));
}

MetricsRegistry::Collector BatchLatencyCollector(const pipeline::PipelineCounters* counters) {
  return [counters](MetricsText& out) {
    constexpr const char* kName = "sagaflow_batch_duration_seconds";
    out.Family(kName, "histogram", "From a batch's first record read to the store's acknowledgement");
    AppendLatencySamples(kName, {}, {}, counters->batch_seconds.Read(), out);
  };
}

MetricsRegistry::Collector StoreCollector(const pipeline::StoreStats* stats) {
  return [stats](MetricsText& out) {
    constexpr const char* kInsert = "sagaflow_store_insert_duration_seconds";
    out.Family(kInsert, "histogram", "One write request to the store (ClickHouse: per table; SQLite: per batch)");
    if (stats) {
      for (size_t t = 0; t < stats->tables().size(); ++t) {
        AppendLatencySamples(kInsert, {"store", "table"}, {stats->store(), stats->tables()[t]},
                             stats->insert_seconds(t).Read(), out);
      }
    }
    out.Family("sagaflow_store_up", "gauge", "1 while the store's requests succeed, 0 while they fail");
    if (stats) out.Sample("sagaflow_store_up", {{"store", stats->store()}}, stats->up() ? 1 : 0);
  };
}

MetricsRegistry::Collector ConsumerLagCollector(const sources::Source* source) {
  return [source](MetricsText& out) {
    struct Row {
      std::string topic, partition;
      sources::StreamLag lag;
    };
    std::vector<Row> rows;
    for (sources::StreamLag& l : source->Lag()) {
      // "kafka:CLUSTER/TOPIC/PARTITION": topics have no '/', so split at the last two.
      const size_t p = l.key.rfind('/');
      const size_t t = p == std::string::npos || p == 0 ? std::string::npos : l.key.rfind('/', p - 1);
      if (t == std::string::npos) continue;
      rows.push_back({l.key.substr(t + 1, p - t - 1), l.key.substr(p + 1), std::move(l)});
    }
    struct Gauge {
      const char* name;
      const char* help;
      int64_t sources::StreamLag::*value;
    };
    static constexpr Gauge kGauges[] = {
        {"sagaflow_kafka_consumer_lag", "Records of an assigned partition not yet stored", &sources::StreamLag::lag},
        {"sagaflow_kafka_consumer_committed_offset", "Offset after the last stored record of an assigned partition",
         &sources::StreamLag::committed},
        {"sagaflow_kafka_partition_end_offset", "High watermark of an assigned partition", &sources::StreamLag::end},
    };
    for (const Gauge& g : kGauges) {
      out.Family(g.name, "gauge", g.help);
      for (const Row& r : rows) {
        if (r.lag.*g.value < 0) continue;  // unknown yet
        out.Sample(g.name, {{"topic", r.topic}, {"partition", r.partition}}, static_cast<double>(r.lag.*g.value));
      }
    }
    // Each loss is also logged with its partition and offsets.
    out.Family("sagaflow_source_records_lost_total", "counter",
               "Records deleted by the source (Kafka retention) before they were read and stored");
    out.Sample("sagaflow_source_records_lost_total", {}, static_cast<double>(source->LostRecords()));
  };
}

}  // namespace sagaflow::server
