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

  auto epoch = kafka::ParseKafkaAddress("kafka://h/events?group=g&epoch=2026-12-05");
  ASSERT_TRUE(epoch.ok()) << epoch.status().ToString();
  EXPECT_EQ(epoch->epoch, "2026-12-05");
  EXPECT_TRUE(epoch->properties.empty());

  for (const char* bad : {"kafka://h1:9092", "kafka:///events", "kafka://h/bad topic", "kafka://h/t?group=g&epoch=a/b",
                          "kafka://h/t?group=g&epoch=", "kafka://h/t?group", "kafka://h/t?grup=x",
                          "kafka://h/t?group=%zz", "file:/x", "kafka://h/t?group=%4"}) {
    EXPECT_FALSE(kafka::ParseKafkaAddress(bad).ok()) << bad;
  }
  EXPECT_FALSE(KafkaSource::Open("kafka://h:1/t", 1024).ok()) << "a group is required";
  auto reserved = KafkaSource::Open("kafka://h:1/t?group=g&enable.auto.commit=true", 1024);
  ASSERT_FALSE(reserved.ok());
  EXPECT_NE(reserved.status().message().find("enable.auto.commit"), std::string::npos);
}

// What reaches librdkafka: failover defaults, the address's properties over
// them, the instance id as group.instance.id, the guarantees last; every
// value accepted by librdkafka.
TEST(KafkaConsumerProperties, FailoverDefaultsAddressOverridesInstanceIdAndGuaranteesLast) {
  auto value = [](const kafka::Properties& p, const std::string& key) {
    std::string v;  // the last one set wins
    for (const auto& [k, val] : p) {
      if (k == key) v = val;
    }
    return v;
  };
  KafkaSourceOptions o;
  o.address = *kafka::ParseKafkaAddress("kafka://h:1/events?group=g");
  auto defaults = ConsumerProperties(o);
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(value(*defaults, "session.timeout.ms"), "6000");
  EXPECT_EQ(value(*defaults, "heartbeat.interval.ms"), "2000");
  EXPECT_EQ(value(*defaults, "group.instance.id"), "") << "dynamic membership unless asked";
  EXPECT_EQ(value(*defaults, "enable.auto.commit"), "false");

  o.address = *kafka::ParseKafkaAddress("kafka://h:1/events?group=g&session.timeout.ms=45000");
  o.instance_id = "sagaflow-run-7f9c-abcde";
  auto p = ConsumerProperties(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(value(*p, "session.timeout.ms"), "45000");
  EXPECT_EQ(value(*p, "group.instance.id"), "sagaflow-run-7f9c-abcde");
  EXPECT_EQ(value(*p, "group.id"), "g");
  EXPECT_EQ(p->back().first, "enable.partition.eof");
  kafka::Config conf;
  EXPECT_TRUE(conf.Set(*p).ok());
  char got[64];
  size_t size = sizeof got;
  ASSERT_EQ(rd_kafka_conf_get(conf.get(), "group.instance.id", got, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(got, "sagaflow-run-7f9c-abcde");

  auto same = KafkaSource::Open("kafka://h:1/t?group=g&group.instance.id=a", 1024, {}, "a");
  EXPECT_TRUE(same.ok()) << same.status().ToString();
  auto contradicts = KafkaSource::Open("kafka://h:1/t?group=g&group.instance.id=a", 1024, {}, "b");
  ASSERT_FALSE(contradicts.ok());
  EXPECT_NE(contradicts.status().message().find("group.instance.id"), std::string::npos);
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
    // Kafka commits offsets outside the store: its acknowledgements must
    // survive power loss. A file's position lives only in the store.
    auto synchronous = (*sink)->Synchronous();
    EXPECT_TRUE(synchronous.ok());
    EXPECT_EQ(*synchronous, source_uri.rfind("kafka://", 0) == 0 ? "FULL" : "NORMAL") << source_uri;
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
  o.address = {broker_->bootstrap(), "events", "revoke", kFastGroup, {}};
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

// The rule that decides where a partition starts (docs/kafka.md).
TEST(PartitionStart, TheStoreDecidesThenTheGroupNeverBeforeTheLogStartNorPastItsEnd) {
  auto start = [](int64_t store, int64_t group, int64_t low, int64_t end) {
    auto s = DecidePartitionStart({store, group, low, end}, "p0");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : PartitionStart{};
  };
  // A commit lost after the store write: the store is ahead, it wins.
  EXPECT_EQ(start(120, 100, 0, 500).offset, 120);
  EXPECT_EQ(start(120, -1, 0, 500).offset, 120);
  // The store behind the group (it lost acknowledged transactions, or is a
  // restored backup): the store still decides; the records are read again.
  auto behind = start(80, 100, 0, 500);
  EXPECT_EQ(behind.offset, 80);
  EXPECT_EQ(behind.behind_from, 80);
  EXPECT_EQ(behind.behind_to, 100);
  // A store that holds nothing of the stream: the group, else auto.offset.reset.
  EXPECT_EQ(start(-1, 100, 0, 500).offset, 100);
  EXPECT_EQ(start(-1, -1, 40, 500).offset, -1);
  // Caught up exactly, and an empty partition.
  EXPECT_EQ(start(500, 500, 0, 500).offset, 500);
  EXPECT_EQ(start(-1, -1, 0, 0).offset, -1);
  // Retention deleted records the store never got: counted, start at the log start.
  auto lost = start(120, 100, 300, 500);
  EXPECT_EQ(lost.offset, 300);
  EXPECT_EQ(lost.lost_from, 120);
  EXPECT_EQ(lost.lost_to, 300);
  auto group_lost = start(-1, 100, 300, 500);
  EXPECT_EQ(group_lost.offset, 300);
  EXPECT_EQ(group_lost.lost_to - group_lost.lost_from, 200);
  EXPECT_EQ(start(-1, -1, 300, 500).lost_to, 0) << "a new stream loses nothing: it starts where the log does";
  // The group's offset beyond the log's end (the topic re-created): ignored.
  auto stale = start(-1, 9000, 0, 500);
  EXPECT_TRUE(stale.group_ignored);
  EXPECT_EQ(stale.offset, -1);
  // Unknown log bounds (the broker did not answer): no check, the old rule.
  EXPECT_EQ(start(120, 100, -1, -1).offset, 120);
  // The store's checkpoint beyond the log's end: a visible error, never a skip.
  auto beyond = DecidePartitionStart({5000, 5000, 0, 120}, "partition events [3]");
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), Status::Code::kInvalidArgument);
  for (const char* part : {"partition events [3]", "ends at offset 120", "up to offset 4999", "re", "epoch="}) {
    EXPECT_NE(beyond.status().message().find(part), std::string::npos) << beyond.status().message();
  }
}

// A store's checkpoints for any stream key; none for keys of an epoch.
class FixedCheckpoint : public CheckpointReader {
 public:
  explicit FixedCheckpoint(uint64_t position) : position_(position) {}
  Result<std::optional<Checkpoint>> LoadCheckpoint(std::string_view key) override {
    if (key.find('@') != std::string_view::npos) return std::optional<Checkpoint>();
    return std::optional<Checkpoint>(Checkpoint{position_, 0, 0});
  }

 private:
  uint64_t position_;
};

// Appends `n` records of `bytes` each to the topic "events" of `broker`.
void ProduceTo(const kafka::DevBroker& broker, int n, size_t bytes) {
  auto p = kafka::KafkaProducer::Open({broker.bootstrap(), "events", {}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string payload(bytes, 'x');
  for (int i = 0; i < n; ++i) EXPECT_TRUE((*p)->Send("k", payload).ok());
  EXPECT_TRUE((*p)->Flush(std::chrono::seconds(60)).ok());
}

// One partition of a fresh dev broker holding `n` records of `bytes` each.
std::unique_ptr<kafka::DevBroker> OnePartitionWith(int n, size_t bytes) {
  auto broker = kafka::DevBroker::Start({.brokers = 1, .topic = "events", .partitions = 1});
  EXPECT_TRUE(broker.ok()) << broker.status().ToString();
  ProduceTo(**broker, n, bytes);
  return std::move(*broker);
}

// Reads until caught up, or `at_most` records; the offsets read.
std::vector<uint64_t> ReadAll(Source* source, size_t at_most = SIZE_MAX) {
  std::vector<uint64_t> offsets;
  Record r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (offsets.size() < at_most && std::chrono::steady_clock::now() < deadline) {
    auto next = source->Next(&r);
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || *next == Source::ReadResult::kIdle) break;
    if (*next == Source::ReadResult::kRecord) offsets.push_back(r.position);
  }
  return offsets;
}

// Consumes the one partition of `broker` as `group` while the store holds it
// up to offset 4999 (filled from the topic before it was re-created): Next()
// must stop within 30 s with the re-created-topic error, which says
// `expected` and the way on, and never hand out a record. The stopped source.
std::unique_ptr<KafkaSource> ExpectStopAsReCreated(const kafka::DevBroker& broker, const std::string& group,
                                                   const std::string& expected) {
  static FixedCheckpoint far(4999);
  KafkaSourceOptions o;
  o.address = {broker.bootstrap(), "events", group, kFastGroup, {}};
  auto source = KafkaSource::Open(o);
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  if (!source.ok()) return nullptr;
  EXPECT_TRUE((*source)->Start(&far).ok());
  Status error;
  Record r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (error.ok() && std::chrono::steady_clock::now() < deadline) {
    auto next = (*source)->Next(&r);
    if (!next.ok()) error = next.status();
    EXPECT_TRUE(!next.ok() || *next != Source::ReadResult::kRecord) << "a record handed out at " << r.position;
    if (next.ok() && *next == Source::ReadResult::kRecord) break;
  }
  EXPECT_EQ(error.code(), Status::Code::kInvalidArgument) << "no error within 30 s: " << error.ToString();
  EXPECT_NE(error.message().find(expected), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("epoch="), std::string::npos) << error.message();
  return std::move(*source);
}

TEST(KafkaOffsetGaps, AStoreCheckpointPastTheLogEndStopsVisiblyAndANewEpochStartsANewStream) {
  auto broker = OnePartitionWith(10, 100);
  auto stopped = ExpectStopAsReCreated(*broker, "gaps", "ends at offset 10");
  ASSERT_TRUE(stopped);
  stopped->Finish();

  // The documented way on: a new epoch, a new stream from the log's start.
  FixedCheckpoint far(4999);  // none for the keys of an epoch
  KafkaSourceOptions o;
  o.address = {broker->bootstrap(), "events", "gaps", kFastGroup, {}};
  o.address.epoch = "2";
  auto renewed = KafkaSource::Open(o);
  ASSERT_TRUE(renewed.ok());
  ASSERT_TRUE((*renewed)->Start(&far).ok());
  EXPECT_EQ(ReadAll(renewed->get()).size(), 10u);
  EXPECT_NE((*renewed)->StreamKey(0).find("/events@2/0"), std::string::npos) << (*renewed)->StreamKey(0);
  EXPECT_EQ((*renewed)->LostRecords(), 0u);
  (*renewed)->Finish();
}

// The same re-created topic when the assignment could not learn the log's
// end: the consumer starts at the store's checkpoint, past the end, the fetch
// runs out of range and auto.offset.reset moves it back to offset 0. Those
// records must not reach the store (it would drop them as duplicates).
TEST(KafkaOffsetGaps, ALogThatWentBackBelowTheStoreStopsVisiblyWhenItsEndWasUnknown) {
  auto broker = OnePartitionWith(10, 100);
  // The assignment's two ListOffsets requests (log start, log end) fail.
  ASSERT_TRUE(broker->Control("fail ListOffsets 2 UNKNOWN").ok());
  auto stopped = ExpectStopAsReCreated(*broker, "blind", "went back from offset 5000 to offset 0");
  ASSERT_TRUE(stopped);
  EXPECT_TRUE(stopped->Lag().empty()) << "the partition is given up, so nothing of it is committed";
  stopped->Finish();
}

TEST(KafkaOffsetGaps, RecordsDeletedByRetentionBeforeTheyWereReadAreCounted) {
  // ~9 MB into one partition: the dev broker keeps about the newest 5 MB.
  auto broker = OnePartitionWith(900, 10000);
  auto marks = kafka::testing::Watermarks(broker->bootstrap(), "events", 1);
  ASSERT_EQ(marks.size(), 1u);
  const int64_t low = marks[0].first;
  ASSERT_GT(low, 100) << "the dev broker deleted nothing";
  FixedCheckpoint stored(10);  // the store holds offsets up to 10
  KafkaSourceOptions o;
  o.address = {broker->bootstrap(), "events", "retention", kFastGroup, {}};
  auto source = KafkaSource::Open(o);
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*source)->Start(&stored).ok());
  const std::vector<uint64_t> offsets = ReadAll(source->get());
  ASSERT_FALSE(offsets.empty());
  EXPECT_EQ(static_cast<int64_t>(offsets.front()), low);
  EXPECT_EQ(static_cast<int64_t>(offsets.size()), 900 - low);
  EXPECT_EQ(static_cast<int64_t>((*source)->LostRecords()), low - 11);
  (*source)->Finish();
}

TEST(KafkaOffsetGaps, RecordsDeletedByRetentionWhileTheConsumerLaggedAreCounted) {
  // 1 MB in the partition; the consumer reads a few records, then reads
  // nothing while 9 MB more arrive (the dev broker keeps about the newest
  // 5 MB): records past what it had fetched are deleted before it fetches
  // them, its next fetch runs out of range and auto.offset.reset moves it on.
  auto broker = OnePartitionWith(100, 10000);
  NoCheckpoints none;
  KafkaSourceOptions o;
  kafka::Properties properties = kFastGroup;
  properties.emplace_back("queued.max.messages.kbytes", "1");  // no fetching ahead while records wait
  o.address = {broker->bootstrap(), "events", "lagging", properties, {}};
  auto source = KafkaSource::Open(o);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ASSERT_TRUE((*source)->Start(&none).ok());
  std::vector<uint64_t> offsets = ReadAll(source->get(), 5);
  ASSERT_EQ(offsets.size(), 5u);
  ProduceTo(*broker, 900, 10000);
  auto marks = kafka::testing::Watermarks(broker->bootstrap(), "events", 1);
  ASSERT_EQ(marks.size(), 1u);
  const int64_t low = marks[0].first;
  ASSERT_GT(low, 100) << "the dev broker deleted nothing the consumer had not fetched";
  for (uint64_t offset : ReadAll(source->get())) offsets.push_back(offset);
  // Consecutive offsets with one jump, to the log start: the lost records.
  std::vector<size_t> jumps;
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] != offsets[i - 1] + 1) jumps.push_back(i);
  }
  ASSERT_EQ(jumps.size(), 1u) << "offsets read: " << offsets.size() << ", last " << offsets.back();
  const size_t j = jumps[0];
  EXPECT_EQ(static_cast<int64_t>(offsets[j]), low);
  EXPECT_EQ((*source)->LostRecords(), offsets[j] - offsets[j - 1] - 1);
  EXPECT_EQ(offsets.back(), 999u);
  (*source)->Finish();
}

}  // namespace
}  // namespace sagaflow::sources
