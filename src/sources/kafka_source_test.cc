// KafkaSource against librdkafka's mock cluster, in process: the address
// syntax; a consumer-group run stores exactly what a file run of the same
// records stores and commits every offset; a group behind the store's
// checkpoints starts after them; a revocation commits acknowledged records
// and never the ones acknowledged after it.
#include "sources/kafka_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "kafka/dev_broker.h"
#include "kafka/kafka_testing.h"
#include "kafka/producer.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "sources/file_source.h"
#include "support/tiny_model.h"

namespace sagaflow::sources {
namespace {

namespace fs = std::filesystem;
using kafka::testing::FirstDifference;
using kafka::testing::StoreFingerprint;

using ::sagaflow::testing::kTinyEntitiesTsv;
using ::sagaflow::testing::kTinyModelJson;

// Fast group protocol for tests: the mock waits session.timeout - 1 s for
// members to rejoin.
const kafka::Properties kFastGroup = {{"session.timeout.ms", "3000"}, {"heartbeat.interval.ms", "500"}};

TEST(KafkaAddress, ParsesBrokersTopicGroupAndProperties) {
  auto a = kafka::ParseKafkaAddress("kafka://h1:9092,h2:9093/events?group=g%201&session.timeout.ms=6000");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->brokers, "h1:9092,h2:9093");
  EXPECT_EQ(a->topic, "events");
  EXPECT_EQ(a->group, "g 1");
  ASSERT_EQ(a->properties.size(), 1u);
  EXPECT_EQ(a->properties[0].first, "session.timeout.ms");
  EXPECT_EQ(a->properties[0].second, "6000");

  for (const char* bad : {"kafka://h1:9092", "kafka:///events", "kafka://h/bad topic", "kafka://h/t?group",
                          "kafka://h/t?grup=x", "kafka://h/t?group=%zz", "file:/x", "kafka://h/t?group=%4"}) {
    EXPECT_FALSE(kafka::ParseKafkaAddress(bad).ok()) << bad;
  }
  EXPECT_FALSE(KafkaSource::Open("kafka://h:1/t", 1024).ok()) << "a group is required";
  auto reserved = KafkaSource::Open("kafka://h:1/t?group=g&enable.auto.commit=true", 1024);
  ASSERT_FALSE(reserved.ok());
  EXPECT_NE(reserved.status().message().find("enable.auto.commit"), std::string::npos);
}

// The store's checkpoints for a source used without a pipeline.
class NoCheckpoints : public CheckpointReader {
 public:
  Result<std::optional<Checkpoint>> LoadCheckpoint(std::string_view) override { return std::optional<Checkpoint>(); }
};

class KafkaSourceTest : public ::testing::Test {
 protected:
  static constexpr int kPartitions = 4;

  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sagaflow-kafka-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "model.json") << kTinyModelJson;
    std::ofstream(dir_ / "entities.tsv") << kTinyEntitiesTsv;
    auto model = pipeline::AnalysisModel::Load((dir_ / "model.json").string(), (dir_ / "entities.tsv").string());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(*model);
    auto broker = kafka::DevBroker::Start({.brokers = 1, .topic = "events", .partitions = kPartitions});
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Events e<first>..e<first+n-1>, every 7th a poison record of another kind.
  static std::vector<std::string> Records(int first, int n) {
    const char* texts[] = {"Jon Snow met Jon and Tom", "the ring of Frodo", "a wand for Harry and Tom", "   ",
                           "Frodo saw Jon"};
    std::vector<std::string> out;
    for (int i = first; i < first + n; ++i) {
      switch (i % 7 == 6 ? (i / 7) % 4 : -1) {
        case 0:
          out.push_back("not json {");
          break;
        case 1:
          out.push_back("{\"id\":\"x\",\"time\":1,\"readers\":1,\"text\":\"\xff\xfe\"}");
          break;
        case 2:
          out.push_back("{\"id\":\"e" + std::to_string(i) + "\",\"time\":5}");
          break;
        case 3:
          out.push_back("{\"id\":\"big\",\"time\":1,\"readers\":1,\"text\":\"" + std::string(5000, 'a') + "\"}");
          break;
        default:
          out.push_back("{\"id\":\"e" + std::to_string(i) + "\",\"time\":" + std::to_string(1000 + i * 600) +
                        ",\"readers\":" + std::to_string(100 + i) + ",\"text\":\"" + texts[i % 5] + "\"}");
      }
    }
    return out;
  }

  void Produce(const std::vector<std::string>& records) {
    auto p = kafka::KafkaProducer::Open({broker_->bootstrap(), "events", {}});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_TRUE((*p)->Send("k" + std::to_string(i % 37), records[i]).ok());
    }
    ASSERT_TRUE((*p)->Flush(std::chrono::seconds(30)).ok());
    std::ofstream out(Path("events.jsonl"), std::ios::app);
    for (const auto& r : records) out << r << "\n";
  }

  std::string Uri(const std::string& group) const {
    return "kafka://" + broker_->bootstrap() + "/events?group=" + group +
           "&session.timeout.ms=3000&heartbeat.interval.ms=500";
  }

  pipeline::PipelineOptions Options() const {
    pipeline::PipelineOptions o;
    o.batch_records = 16;
    o.workers = 2;
    o.linger = std::chrono::milliseconds(50);
    o.max_record_bytes = 4096;  // the 5,000-byte texts are too large
    o.stop_when_idle = std::chrono::milliseconds(1000);
    return o;
  }

  // Runs the pipeline on `source_uri` into the store `db`.
  pipeline::CountersSnapshot Run(const std::string& source_uri, const std::string& db) {
    auto source = OpenAny(source_uri);
    auto sink = sinks::sqlite::SqliteSink::Open(db);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    pipeline::PipelineCounters counters("kafka", "sqlite");
    pipeline::Pipeline p(*source, **sink, model_->classifier, model_->matcher, model_->dimensions, Options(),
                         &counters);
    Status st = p.Run();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return counters.Snapshot();
  }
  std::unique_ptr<Source> OpenAny(const std::string& uri) {
    if (uri.rfind("kafka://", 0) == 0) {
      auto s = KafkaSource::Open(uri, Options().max_record_bytes);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      return std::move(*s);
    }
    auto s = FileSource::Open(uri, Options().max_record_bytes);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }

  std::vector<int64_t> Committed(const std::string& group) {
    return kafka::testing::CommittedOffsets(broker_->bootstrap(), "events", kPartitions, group);
  }
  std::vector<int64_t> Ends() { return kafka::testing::EndOffsets(broker_->bootstrap(), "events", kPartitions); }

  fs::path dir_;
  std::unique_ptr<pipeline::AnalysisModel> model_;
  std::unique_ptr<kafka::DevBroker> broker_;
};

TEST_F(KafkaSourceTest, StoresWhatAFileRunStoresAndCommitsEveryOffset) {
  Produce(Records(0, 300));
  Run(Path("events.jsonl"), Path("file.db"));
  auto s = Run(Uri("g1"), Path("kafka.db"));
  EXPECT_EQ(s.records, 300u);
  EXPECT_EQ(s.duplicates, 0u);
  const std::string expected = StoreFingerprint(Path("file.db"));
  ASSERT_NE(expected.find("# dead letters 42\n"), std::string::npos) << "poison records of every kind";
  ASSERT_NE(expected.find("too_large"), std::string::npos);
  const std::string actual = StoreFingerprint(Path("kafka.db"));
  EXPECT_EQ(actual, expected) << FirstDifference(expected, actual);
  const std::vector<int64_t> ends = Ends();
  int64_t total = 0;
  for (int64_t e : ends) {
    EXPECT_GT(e, 0) << "keys spread over every partition";
    total += e;
  }
  EXPECT_EQ(total, 300);
  EXPECT_EQ(Committed("g1"), ends);
}

TEST_F(KafkaSourceTest, AGroupBehindTheStoresCheckpointsStartsAfterThem) {
  Produce(Records(0, 100));
  Run(Uri("first"), Path("kafka.db"));
  // A group that never committed, on the same store: the store holds every
  // record already, so nothing is read again, and the group's offsets are
  // brought up to the store's.
  auto again = Run(Uri("second"), Path("kafka.db"));
  EXPECT_EQ(again.records, 0u);
  EXPECT_EQ(Committed("second"), Ends());
  Produce(Records(100, 60));
  auto more = Run(Uri("second"), Path("kafka.db"));
  EXPECT_EQ(more.records, 60u);
  EXPECT_EQ(more.duplicates, 0u);
  Run(Path("events.jsonl"), Path("file.db"));
  const std::string expected = StoreFingerprint(Path("file.db"));
  const std::string actual = StoreFingerprint(Path("kafka.db"));
  EXPECT_EQ(actual, expected) << FirstDifference(expected, actual);
}

TEST_F(KafkaSourceTest, RevocationCommitsAcknowledgedRecordsAndNeverLaterOnes) {
  Produce(Records(0, 200));
  KafkaSourceOptions o;
  o.address = {broker_->bootstrap(), "events", "revoke", kFastGroup};
  o.drain_timeout = std::chrono::milliseconds(300);
  auto source = KafkaSource::Open(o);
  ASSERT_TRUE(source.ok());
  NoCheckpoints none;
  ASSERT_TRUE((*source)->Start(&none).ok());
  std::map<uint32_t, uint64_t> last;  // partition -> last offset read
  Record r;
  for (;;) {
    auto next = (*source)->Next(&r);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (*next == Source::ReadResult::kIdle) break;
    if (*next == Source::ReadResult::kWaiting) continue;
    ASSERT_EQ(*next, Source::ReadResult::kRecord);
    last[r.stream] = r.position;
  }
  ASSERT_EQ(last.size(), static_cast<size_t>(kPartitions));
  // Partition 0 is stored and acknowledged; the others are still in flight.
  ASSERT_TRUE((*source)->Acknowledge(0, {last[0], 0, 0}).ok());

  // A second member joins: the group takes partitions away from the first.
  std::atomic<bool> done{false};
  std::thread other([&] {
    kafka::Config conf;
    ASSERT_TRUE(conf.Set("bootstrap.servers", broker_->bootstrap()).ok());
    ASSERT_TRUE(conf.Set("group.id", "revoke").ok());
    ASSERT_TRUE(conf.Set("enable.auto.commit", "false").ok());
    ASSERT_TRUE(conf.Set(kFastGroup).ok());
    auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, &conf);
    ASSERT_TRUE(rk.ok());
    rd_kafka_poll_set_consumer(*rk);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, "events", RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(*rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    while (!done) {
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(*rk, 100)) rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(*rk);
    rd_kafka_destroy(*rk);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // Revoked (no partitions), then assigned its share.
  auto shared = [&] {
    const size_t n = (*source)->Lag().size();
    return n > 0 && n < static_cast<size_t>(kPartitions);
  };
  while (!shared() && std::chrono::steady_clock::now() < deadline) ASSERT_TRUE((*source)->Next(&r).ok());
  ASSERT_TRUE(shared()) << "no rebalance within 30 s";
  std::set<uint32_t> kept;
  for (const StreamLag& l : (*source)->Lag()) kept.insert(std::stoul(l.key.substr(l.key.rfind('/') + 1)));
  // Acknowledgements after the revocation, for partitions now someone else's.
  for (uint32_t p = 1; p < kPartitions; ++p) {
    if (!kept.count(p)) {
      ASSERT_TRUE((*source)->Acknowledge(p, {last[p], 0, 0}).ok());
    }
  }
  ASSERT_TRUE((*source)->Finish().ok());
  done = true;
  other.join();
  const std::vector<int64_t> committed = Committed("revoke");
  EXPECT_EQ(committed[0], static_cast<int64_t>(last[0] + 1));
  int checked = 0;
  for (uint32_t p = 1; p < kPartitions; ++p) {
    if (kept.count(p)) continue;
    EXPECT_EQ(committed[p], -1) << "partition " << p << " was committed after it was revoked";
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace sagaflow::sources
