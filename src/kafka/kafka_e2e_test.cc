// End to end through the built binary (fixture: kafka_e2e_testing.h):
// `sagaflow dev-broker` (a process, faults injected on its stdin),
// `sagaflow produce --kafka`, and consumer groups of
// `sagaflow run --source kafka://...` into SQLite. Every test
// compares the store with a file run of the same shared-corpus events: the
// facts, mentions and dead letters row for row, and every query's answer.
//  1. all events, one consumer, --stop-when-idle;
//  2. consumers SIGKILLed at random moments while events arrive, restarted;
//  3. Fetch and OffsetCommit errors and the broker down and up again;
//  4. poison records (non-JSON, invalid UTF-8, missing fields, 2 MB text);
//  5. two consumers of one group sharing the partitions;
//  6. SIGTERM: what was read is stored and committed, then the rest.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "kafka/kafka_e2e_testing.h"
#include "kafka/producer.h"

namespace sagaflow::kafka::testing {
namespace {

TEST_F(KafkaEndToEndTest, AllEventsThroughOneConsumerEqualTheFileRun) {
  StartBroker();
  auto producer = StartProducer(0);
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  auto consumer = StartConsumer("all", Path("kafka.db"), "consumer");
  ExpectClean(*consumer, "consumer");
  ExpectSameAsFileRun(Path("kafka.db"), "all");
  // It ended caught up: every partition's lag is reported, and zero.
  const auto summary = Summary("consumer");
  ASSERT_TRUE(summary.contains("lag")) << ReadFile(Path("consumer.out"));
  EXPECT_EQ(summary["lag"].size(), static_cast<size_t>(kPartitions)) << summary.dump();
  for (const auto& l : summary["lag"]) {
    EXPECT_EQ(l["lag"], 0) << summary.dump();
    EXPECT_EQ(l["committed"], l["end"]) << summary.dump();
  }
  // A second run of the group finds nothing new and changes nothing.
  auto again = StartConsumer("all", Path("kafka.db"), "again", 2);
  ExpectClean(*again, "again");
  EXPECT_EQ(Summary("again")["records"], 0) << ReadFile(Path("again.out"));
  ExpectSameAsFileRun(Path("kafka.db"), "all");
}

TEST_F(KafkaEndToEndTest, ConsumersKilledAtRandomMomentsLoseAndRepeatNothing) {
  StartBroker();
  auto producer = StartProducer(80);  // ~29 s of events
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  // A new member waits for the killed one's session to expire (4 s) and
  // for the group to rebalance before it reads, which takes longer on a
  // loaded machine: kill 0-3 s after it first stored something (or after
  // 30 s without progress), so that the kills land mid-stream whatever the
  // machine's speed.
  std::uniform_int_distribution<int> delay_ms(0, 3000);
  const std::string db = Path("kafka.db");
  int kills = 0, mid_stream = 0;
  int64_t before = 0;
  while (kills < 5 || !producer->WaitFor(std::chrono::milliseconds(0))) {
    auto consumer = StartConsumer("killed", db, "consumer-" + std::to_string(kills), 60, "64");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (StoredRows(db) <= before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    consumer->Kill(SIGKILL);
    ASSERT_EQ(consumer->Wait(), 128 + SIGKILL);
    ++kills;
    const int64_t rows = StoredRows(db);
    if (rows > before) ++mid_stream;
    before = rows;
    ASSERT_LT(kills, 40) << "seed " << seed;
  }
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  EXPECT_GE(mid_stream, 2) << "kills after progress (seed " << seed << ")";
  auto last = StartConsumer("killed", db, "final");
  ExpectClean(*last, "final");
  ExpectSameAsFileRun(db, "killed");
  std::printf("%d kills (%d after progress), seed %u\n", kills, mid_stream, seed);
}

TEST_F(KafkaEndToEndTest, SigtermStoresAndCommitsWhatWasReadThenExits) {
  StartBroker();
  auto producer = StartProducer(150);
  const std::string db = Path("kafka.db");
  auto consumer = StartConsumer("term", db, "consumer", 60, "64");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (StoredRows(db) < 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  consumer->Kill(SIGTERM);
  auto status = consumer->WaitFor(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "no exit within 30 s of SIGTERM";
  EXPECT_EQ(*status, 0) << "a complete drain after SIGTERM exits 0\n" << ReadFile(Path("consumer.log"));
  const int64_t rows = StoredRows(db);
  EXPECT_GT(rows, 0);
  EXPECT_LT(rows, 2286) << "stopped mid-stream";
  // Everything read was stored, and everything stored is committed.
  EXPECT_EQ(CommittedOffsets(brokers_, "events", kPartitions, "term"), StoreOffsets(db));
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  auto rest = StartConsumer("term", db, "rest");
  ExpectClean(*rest, "rest");
  EXPECT_EQ(Summary("rest")["duplicates"], 0);
  ExpectSameAsFileRun(db, "term");
}

TEST_F(KafkaEndToEndTest, BrokerFaultsChangeNothing) {
  StartBroker();
  auto producer = StartProducer(150);  // ~15 s of events
  auto consumer = StartConsumer("faults", Path("kafka.db"), "consumer", 6, "50");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  Fault("fail Fetch 10 NOT_LEADER_FOR_PARTITION");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail OffsetCommit 20 REQUEST_TIMED_OUT");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail Fetch 3 _TRANSPORT");
  Fault("fail OffsetCommit 10 COORDINATOR_NOT_AVAILABLE");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // The outage waits for the producer: the dev broker (librdkafka 2.0.2's
  // mock) does not deduplicate an idempotent producer's retries, so a batch
  // in flight when it goes down can be appended twice (seen once in CI: 2,287
  // records in the log for 2,286 produced). The faults are the consumer's.
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  Fault("down 1");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  Fault("up 1");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail OffsetCommit 5 NOT_COORDINATOR");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail OffsetCommit 2 REBALANCE_IN_PROGRESS");
  ExpectClean(*consumer, "consumer");
  EXPECT_GT(StoredRows(Path("kafka.db")), 0);
  ExpectSameAsFileRun(Path("kafka.db"), "faults");
  EXPECT_NE(ReadFile(Path("consumer.log")).find("Connection refused"), std::string::npos) << "the broker was down";
}

TEST_F(KafkaEndToEndTest, PoisonRecordsAreDeadLetteredAndThePartitionGoesOn) {
  StartBroker();
  // The corpus events with poison records between them, every poison key
  // also an article's key (same partition, valid events behind it).
  auto texts = ReadFile(ref_->events);
  std::vector<std::pair<std::string, std::string>> records;
  std::istringstream lines(texts);
  std::string line;
  const std::vector<std::string> poison = {
      "not json at all {",
      std::string("{\"id\":\"bad-utf8\",\"time\":1700000000,\"readers\":5,\"text\":\"caf\xc3\x28\"}"),
      "{\"id\":\"missing\",\"time\":1700000000,\"text\":\"no readers\"}",
      "{\"time\":1700000000,\"readers\":1,\"text\":\"no id\"}",
      "{\"id\":\"e\",\"time\":\"1700000000\",\"readers\":1,\"text\":\"time is a string\"}",
  };
  // One 2 MB text: the mock keeps only ~5 MB of a partition.
  const std::string huge =
      "{\"id\":\"huge\",\"time\":1700000000,\"readers\":1,\"text\":\"" + std::string(2 << 20, 'x') + "\"}";
  for (int i = 0; std::getline(lines, line); ++i) {
    records.emplace_back("k" + std::to_string(i % 97), line);
    if (i % 400 == 7) {
      for (const auto& p : poison) records.emplace_back("k" + std::to_string(i % 97), p);
    }
    if (i == 1000) records.emplace_back("k" + std::to_string(i % 97), huge);
  }
  {
    auto producer = KafkaProducer::Open({brokers_, "events", {{"message.max.bytes", "4000000"}}});
    ASSERT_TRUE(producer.ok()) << producer.status().ToString();
    for (const auto& [k, v] : records) ASSERT_TRUE((*producer)->Send(k, v).ok());
    ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(60)).ok());
  }
  std::ofstream file(Path("events.jsonl"), std::ios::binary);
  for (const auto& [k, v] : records) file << v << "\n";
  file.close();
  ASSERT_EQ(Sagaflow("run --progress never --source " + Quote(Path("events.jsonl")) + " --store " +
                     Quote("sqlite:" + Path("file.db")) + " --model " + Quote(ref_->model) + " --entities " +
                     Quote(ref_->entities)),
            0);
  ExpectNothingTrimmed();
  auto consumer = StartConsumer("poison", Path("kafka.db"), "consumer");
  ExpectClean(*consumer, "consumer");
  const std::string expected = StoreFingerprint(Path("file.db"));
  for (const char* reason : {"invalid_json", "invalid_utf8", "missing_field", "wrong_type", "too_large"}) {
    EXPECT_NE(expected.find(std::string(reason) + "\t"), std::string::npos) << reason;
  }
  const std::string actual = StoreFingerprint(Path("kafka.db"));
  EXPECT_EQ(actual, expected) << FirstDifference(expected, actual);
  EXPECT_EQ(Answers("sqlite:" + Path("kafka.db")), Answers("sqlite:" + Path("file.db")));
  EXPECT_EQ(CommittedOffsets(brokers_, "events", kPartitions, "poison"), EndOffsets(brokers_, "events", kPartitions));
}

// Two members, the second joining mid-stream: the partitions are shared
// (each consumes some), rebalanced, and the totals stay exact.
class KafkaTwoConsumersTest : public KafkaEndToEndTest {
 protected:
  void Share() {
    StartBroker();
    auto producer = StartProducer(150);
    auto first = StartConsumer("shared", Path("kafka.db"), "first", 6, "64");
    std::this_thread::sleep_for(std::chrono::seconds(6));
    auto second = StartConsumer("shared", Path("kafka.db"), "second", 6, "64");
    ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
    ExpectClean(*first, "first");
    ExpectClean(*second, "second");
    for (const char* name : {"first", "second"}) {
      EXPECT_GT(Summary(name)["records"].get<int64_t>(), 0)
          << name << ": " << ReadFile(Path(std::string(name) + ".out"));
    }
    ExpectSameAsFileRun(Path("kafka.db"), "shared");
  }
};

TEST_F(KafkaTwoConsumersTest, EagerRebalancing) { Share(); }

TEST_F(KafkaTwoConsumersTest, CooperativeRebalancing) {
  extra_properties_ = "&partition.assignment.strategy=cooperative-sticky";
  Share();
}

}  // namespace
}  // namespace sagaflow::kafka::testing
