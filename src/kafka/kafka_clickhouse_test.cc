// Kafka in, ClickHouse out, through the binary (fixture: kafka_e2e_testing.h,
// and the ClickHouse test server of src/sinks/clickhouse): the shared-corpus
// events produced to a dev broker while consumers of one group, SIGKILLed
// twice mid-stream, write them to ClickHouse; every query then answers
// exactly what the file run into SQLite answers, and the group's offsets
// are committed to the end.
#include <gtest/gtest.h>

#include <thread>

#include "kafka/kafka_e2e_testing.h"
#include "sinks/clickhouse/clickhouse_testing.h"

namespace sagaflow::kafka::testing {
namespace {

TEST_F(KafkaEndToEndTest, IntoClickHouseAnswersEveryQueryAsTheFileRunIntoSqlite) {
  SAGAFLOW_REQUIRE_CLICKHOUSE(address);
  const std::string store = "clickhouse://" + address + "/" + sinks::clickhouse::testing::UniqueDatabase();
  StartBroker();
  auto producer = StartProducer(150);  // ~15 s of events
  for (int i = 0; i < 2; ++i) {
    auto consumer = StartConsumer("clickhouse", store, "killed-" + std::to_string(i), 60, "64");
    std::this_thread::sleep_for(std::chrono::seconds(7 + 2 * i));
    consumer->Kill(SIGKILL);
    ASSERT_EQ(consumer->Wait(), 128 + SIGKILL) << ReadFile(Path("killed-" + std::to_string(i) + ".log"));
  }
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  auto last = StartConsumer("clickhouse", store, "final");
  ExpectClean(*last, "final");
  ExpectNothingTrimmed();
  EXPECT_EQ(Answers(store), ref_->answers);
  EXPECT_EQ(CommittedOffsets(brokers_, "events", kPartitions, "clickhouse"),
            EndOffsets(brokers_, "events", kPartitions));
}

}  // namespace
}  // namespace sagaflow::kafka::testing
