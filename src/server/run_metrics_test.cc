#include "server/run_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace sagaflow::server {
namespace {

std::string Render(const MetricsRegistry::Collector& c) {
  std::string text;
  MetricsText out(&text);
  c(out);
  return text;
}

class LaggingSource final : public sources::Source {
 public:
  std::string Describe() const override { return "test"; }
  Status Start(sources::CheckpointReader*) override { return Status::Ok(); }
  const std::string& StreamKey(uint32_t) const override { return key_; }
  Result<ReadResult> Next(sources::Record*) override { return ReadResult::kEnd; }
  std::vector<sources::StreamLag> Lag() const override {
    return {{"kafka:cluster-1/events.v2/0", 10, 15, 5},
            {"kafka:cluster-1/events.v2/11", -1, 7, -1},  // nothing stored yet: unknown committed
            {"file:not-kafka", 1, 2, 1}};
  }
  uint64_t LostRecords() const override { return 42; }

 private:
  std::string key_ = "k";
};

TEST(RunMetrics, ConsumerLagPerTopicAndPartition) {
  LaggingSource source;
  const std::string text = Render(ConsumerLagCollector(&source));
  EXPECT_NE(text.find("# TYPE sagaflow_kafka_consumer_lag gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("sagaflow_kafka_consumer_lag{topic=\"events.v2\",partition=\"0\"} 5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("sagaflow_kafka_partition_end_offset{topic=\"events.v2\",partition=\"11\"} 7\n"),
            std::string::npos)
      << text;
  // Unknown values are left out, and streams that are not partitions too.
  EXPECT_EQ(text.find("partition=\"11\"} -1"), std::string::npos) << text;
  EXPECT_EQ(text.find("sagaflow_kafka_consumer_lag{topic=\"events.v2\",partition=\"11\"}"), std::string::npos);
  EXPECT_EQ(text.find("not-kafka"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE sagaflow_source_records_lost_total counter\nsagaflow_source_records_lost_total 42\n"),
            std::string::npos)
      << text;
}

TEST(RunMetrics, LatencyHistogramsAreCumulativeWithSumAndCount) {
  pipeline::StoreStats stats("clickhouse", {"fact_event", "source"});
  stats.insert_seconds(0).Observe(0.0005);  // first bucket
  stats.insert_seconds(0).Observe(0.3);     // 0.5 s bucket
  stats.insert_seconds(0).Observe(100);     // +Inf only
  stats.SetUp(false);
  const std::string text = Render(StoreCollector(&stats));
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("# TYPE sagaflow_store_insert_duration_seconds histogram")) << text;
  const std::string labels = "store=\"clickhouse\",table=\"fact_event\"";
  EXPECT_TRUE(has("sagaflow_store_insert_duration_seconds_bucket{" + labels + ",le=\"0.001\"} 1")) << text;
  EXPECT_TRUE(has("sagaflow_store_insert_duration_seconds_bucket{" + labels + ",le=\"0.25\"} 1")) << text;
  EXPECT_TRUE(has("sagaflow_store_insert_duration_seconds_bucket{" + labels + ",le=\"0.5\"} 2")) << text;
  EXPECT_TRUE(has("sagaflow_store_insert_duration_seconds_bucket{" + labels + ",le=\"60\"} 2")) << text;
  EXPECT_TRUE(has("sagaflow_store_insert_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 3")) << text;
  EXPECT_TRUE(has("sagaflow_store_insert_duration_seconds_count{" + labels + "} 3")) << text;
  EXPECT_TRUE(has("sagaflow_store_insert_duration_seconds_count{store=\"clickhouse\",table=\"source\"} 0")) << text;
  EXPECT_TRUE(has("sagaflow_store_up{store=\"clickhouse\"} 0")) << text;
  // A store that keeps no figures still declares the families.
  const std::string none = Render(StoreCollector(nullptr));
  EXPECT_NE(none.find("# TYPE sagaflow_store_up gauge"), std::string::npos) << none;
}

}  // namespace
}  // namespace sagaflow::server
