// End to end through the built binary: `sagaflow dev-broker` (a process,
// faults injected on its stdin), `sagaflow produce --kafka`, and consumer
// groups of `sagaflow run --source kafka://...` into SQLite. Every test
// compares the store with a file run of the same shared-corpus events: the
// facts, mentions and dead letters row for row, and every query's answer.
//  1. all events, one consumer, --stop-when-idle;
//  2. consumers SIGKILLed at random moments while events arrive, restarted;
//  3. Fetch and OffsetCommit errors and the broker down and up again;
//  4. poison records (non-JSON, invalid UTF-8, missing fields, 2 MB text);
//  5. two consumers of one group sharing the partitions.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "events/event_generator.h"
#include "kafka/kafka_testing.h"
#include "kafka/producer.h"
#include "support/shared_data.h"
#include "text/python_reference_testing.h"

namespace sagaflow::kafka {
namespace {

namespace fs = std::filesystem;
using testing::Child;
using testing::FirstDifference;
using testing::StoreFingerprint;
using text::testing::Quote;
using text::testing::ReadFile;

constexpr const char* kSeed = "7";
constexpr const char* kStartTime = "1700000000";
constexpr const char* kInterval = "37";
constexpr int kPartitions = 8;  // the mock keeps ~5 MB per partition; the corpus is ~12 MB
// A fast group protocol: a killed member is dropped after its session
// timeout, and the mock waits session.timeout - 1 s for members to rejoin.
constexpr const char* kGroupProperties = "&session.timeout.ms=4000&heartbeat.interval.ms=800";

// Shared by all tests: the exported model, the events file and the file
// run's store (the reference).
struct Reference {
  fs::path dir;
  std::string model, entities, corpus, events, db, fingerprint, answers;
};

std::string Bin() { return SAGAFLOW_BINARY; }

// Runs the binary with `args`; returns its exit status, stdout into *out.
int Sagaflow(const std::string& args, std::string* out = nullptr, const std::string& log = "/dev/null") {
  std::string tmp = (fs::temp_directory_path() / ("sagaflow-e2e-out-" + std::to_string(::getpid()))).string();
  int rc = std::system((Quote(Bin()) + " " + args + " > " + Quote(tmp) + " 2>> " + Quote(log)).c_str());
  if (out) *out = ReadFile(tmp);
  std::remove(tmp.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Every query of `sagaflow query` over the store, as JSON, one per line.
std::string Answers(const std::string& db) {
  const std::string store = "--store " + Quote("sqlite:" + db) + " --format json ";
  std::vector<std::string> queries = {"sagas", "rejected"};
  for (const char* saga : {"got", "lotr", "hp"}) {
    queries.push_back(std::string("top-entities --limit 0 --by mentions --saga ") + saga);
    queries.push_back(std::string("top-entities --limit 8 --by readers --saga ") + saga);
    queries.push_back(std::string("top-entities --limit 0 --saga ") + saga + " --from 1700020000 --to 1700060000");
  }
  for (const char* entity : {"Harry Potter", "Frodo Baggins", "Jon Snow", "Gandalf"}) {
    queries.push_back(std::string("trend --bucket hour --entity ") + Quote(entity));
    queries.push_back(std::string("trend --bucket day --entity ") + Quote(entity));
  }
  std::string all;
  for (const auto& q : queries) {
    std::string out;
    EXPECT_EQ(Sagaflow("query " + store + q, &out), 0) << q;
    all += q + ": " + out;
  }
  return all;
}

class KafkaEndToEndTest : public ::testing::Test {
 protected:
  static Reference* ref_;
  static bool keep_;

  static void TearDownTestSuite() {
    if (ref_ && !keep_) fs::remove_all(ref_->dir);
    delete ref_;
    ref_ = nullptr;
  }
  // A failed test's logs and stores stay for a look.
  void TearDown() override {
    if (HasFailure() && ref_) {
      keep_ = true;
      std::printf("kept for inspection: %s\n", dir_.c_str());
    }
  }

  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    SAGAFLOW_REQUIRE_SHARED(corpus, "corpus/texts.jsonl");
    SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
    if (!ref_) {
      auto* r = new Reference;
      r->dir = fs::temp_directory_path() / ("sagaflow-kafka-e2e-" + std::to_string(::getpid()));
      fs::create_directories(r->dir);
      r->model = (r->dir / "model.json").string();
      r->entities = testing_support_entities();
      r->corpus = corpus;
      r->events = (r->dir / "events.jsonl").string();
      r->db = (r->dir / "reference.db").string();
      ref_ = r;
      ASSERT_EQ(text::testing::ExportModel(joblib, r->model, "got,lotr,hp"), 0);
      ASSERT_EQ(Sagaflow(ProduceArgs() + " --output " + Quote(r->events)), 0);
      ASSERT_EQ(Sagaflow("run --progress never --source " + Quote(r->events) + " --store " + Quote("sqlite:" + r->db) +
                         " --model " + Quote(r->model) + " --entities " + Quote(r->entities)),
                0);
      r->fingerprint = StoreFingerprint(r->db);
      r->answers = Answers(r->db);
    }
    ASSERT_FALSE(ref_->fingerprint.empty());
    dir_ = ref_->dir / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }

  static std::string testing_support_entities() { return sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv"; }

  static std::string ProduceArgs() {
    return "produce --input " + Quote(ref_->corpus) + " --seed " + kSeed + " --start-time " + kStartTime +
           " --interval " + kInterval;
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Starts `sagaflow dev-broker`; its bootstrap address is in brokers_.
  void StartBroker() {
    broker_ = std::make_unique<Child>(
        std::vector<std::string>{Bin(), "dev-broker", "--partitions", std::to_string(kPartitions), "--topic", "events"},
        "", Path("broker.log"), true);
    auto line = broker_->ReadLine();
    ASSERT_TRUE(line.has_value()) << ReadFile(Path("broker.log"));
    brokers_ = *line;
  }
  // Sends one fault command to the broker; it answers "ok".
  void Fault(const std::string& command) {
    ASSERT_TRUE(broker_->WriteLine(command));
    auto answer = broker_->ReadLine();
    ASSERT_EQ(answer.value_or("<none>"), "ok") << command;
  }

  // `sagaflow produce --kafka` in the background.
  std::unique_ptr<Child> StartProducer(int rate) {
    std::vector<std::string> args = {Bin(),     "produce",      "--input", ref_->corpus, "--seed", kSeed,
                                     "--start-time", kStartTime, "--interval", kInterval, "--kafka", brokers_,
                                     "--topic",  "events",       "--rate",  std::to_string(rate)};
    return std::make_unique<Child>(args, Path("produce.out"), Path("produce.log"), false);
  }

  std::unique_ptr<Child> StartConsumer(const std::string& group, const std::string& db, const std::string& name,
                                       int idle_seconds = 4, const std::string& extra = "") {
    std::vector<std::string> args = {Bin(),
                                     "run",
                                     "--progress",
                                     "never",
                                     "--summary",
                                     "json",
                                     "--source",
                                     "kafka://" + brokers_ + "/events?group=" + group + kGroupProperties,
                                     "--store",
                                     "sqlite:" + db,
                                     "--model",
                                     ref_->model,
                                     "--entities",
                                     ref_->entities,
                                     "--stop-when-idle",
                                     std::to_string(idle_seconds),
                                     "--workers",
                                     "2"};
    if (!extra.empty()) {
      args.push_back("--batch-size");
      args.push_back(extra);
    }
    return std::make_unique<Child>(args, Path(name + ".out"), Path(name + ".log"), false);
  }

  // Waits for a consumer to end by itself and checks it succeeded.
  void ExpectClean(Child& c, const std::string& name) {
    auto status = c.WaitFor(std::chrono::minutes(4));
    ASSERT_TRUE(status.has_value()) << name << " did not stop when idle";
    EXPECT_EQ(*status, 0) << name << ":\n" << ReadFile(Path(name + ".log"));
  }

  // The JSON summary a consumer printed.
  nlohmann::json Summary(const std::string& name) {
    auto j = nlohmann::json::parse(ReadFile(Path(name + ".out")), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << name;
    return j.is_discarded() ? nlohmann::json::object() : j;
  }

  int64_t StoredRows(const std::string& db) {
    if (!fs::exists(db)) return 0;
    auto d = sinks::sqlite::Db::Open(db, sinks::sqlite::Db::Mode::kReadOnly);
    if (!d.ok()) return -1;
    auto q = (*d)->Prepare("SELECT (SELECT count(*) FROM fact_event) + (SELECT count(*) FROM dead_letter)");
    if (!q.ok() || !q->Step().ok()) return -1;
    return q->Int(0);
  }

  // The mock broker dropped no record (it keeps ~5 MB per partition): a
  // difference is then the consumer's.
  void ExpectNothingTrimmed() {
    for (const auto& [low, high] : testing::Watermarks(brokers_, "events", kPartitions)) {
      EXPECT_EQ(low, 0) << "the dev broker trimmed a partition: the test sent too much";
    }
  }

  // The store equals the reference, and the group committed every offset.
  void ExpectSameAsFileRun(const std::string& db, const std::string& group) {
    ExpectNothingTrimmed();
    const std::string actual = StoreFingerprint(db);
    EXPECT_EQ(actual, ref_->fingerprint) << FirstDifference(ref_->fingerprint, actual);
    EXPECT_EQ(Answers(db), ref_->answers);
    EXPECT_EQ(testing::CommittedOffsets(brokers_, "events", kPartitions, group),
              testing::EndOffsets(brokers_, "events", kPartitions));
  }

  fs::path dir_;
  std::unique_ptr<Child> broker_;
  std::string brokers_;
};

Reference* KafkaEndToEndTest::ref_ = nullptr;
bool KafkaEndToEndTest::keep_ = false;

TEST_F(KafkaEndToEndTest, AllEventsThroughOneConsumerEqualTheFileRun) {
  StartBroker();
  auto producer = StartProducer(0);
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  auto consumer = StartConsumer("all", Path("kafka.db"), "consumer");
  ExpectClean(*consumer, "consumer");
  ExpectSameAsFileRun(Path("kafka.db"), "all");
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
  // for the group to rebalance before it reads: kill after 3-10 s.
  std::uniform_int_distribution<int> delay_ms(3000, 10000);
  const std::string db = Path("kafka.db");
  int kills = 0, mid_stream = 0;
  int64_t before = 0;
  while (kills < 5 || !producer->WaitFor(std::chrono::milliseconds(0))) {
    auto consumer = StartConsumer("killed", db, "consumer-" + std::to_string(kills), 60, "64");
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

TEST_F(KafkaEndToEndTest, BrokerFaultsChangeNothing) {
  StartBroker();
  auto producer = StartProducer(150);  // ~15 s of events
  auto consumer = StartConsumer("faults", Path("kafka.db"), "consumer", 6, "50");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  Fault("fail Fetch 20 NOT_LEADER_FOR_PARTITION");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail OffsetCommit 20 REQUEST_TIMED_OUT");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail Fetch 10 _TRANSPORT");
  Fault("fail OffsetCommit 10 COORDINATOR_NOT_AVAILABLE");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Fault("down 1");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  Fault("up 1");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail OffsetCommit 5 NOT_COORDINATOR");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Fault("fail OffsetCommit 2 REBALANCE_IN_PROGRESS");  // makes the member rejoin
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
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
  EXPECT_EQ(Answers(Path("kafka.db")), Answers(Path("file.db")));
  EXPECT_EQ(testing::CommittedOffsets(brokers_, "events", kPartitions, "poison"),
            testing::EndOffsets(brokers_, "events", kPartitions));
}

TEST_F(KafkaEndToEndTest, TwoConsumersOfOneGroupShareThePartitionsExactly) {
  StartBroker();
  auto producer = StartProducer(150);
  auto first = StartConsumer("shared", Path("kafka.db"), "first", 6, "64");
  std::this_thread::sleep_for(std::chrono::seconds(6));
  auto second = StartConsumer("shared", Path("kafka.db"), "second", 6, "64");
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  ExpectClean(*first, "first");
  ExpectClean(*second, "second");
  // Both consumed (the partitions were shared), and the totals are exact.
  for (const char* name : {"first", "second"}) {
    EXPECT_GT(Summary(name)["records"].get<int64_t>(), 0) << name << ": " << ReadFile(Path(std::string(name) + ".out"));
  }
  ExpectSameAsFileRun(Path("kafka.db"), "shared");
}

}  // namespace
}  // namespace sagaflow::kafka
