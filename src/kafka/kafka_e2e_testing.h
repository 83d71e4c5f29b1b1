// The fixture of the Kafka end-to-end tests (kafka_e2e_test.cc into SQLite,
// kafka_clickhouse_test.cc into ClickHouse): the built binary (SAGAFLOW_BINARY),
// `sagaflow dev-broker` as a child process (faults on its stdin),
// `sagaflow produce --kafka`, consumer groups of `sagaflow run`, and the
// reference: a file run of the same shared-corpus events into SQLite, whose
// rows and query answers every Kafka run must reproduce.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kafka/kafka_testing.h"
#include "support/shared_data.h"
#include "text/python_reference_testing.h"

namespace sagaflow::kafka::testing {

namespace fs = std::filesystem;
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

inline std::string Bin() { return SAGAFLOW_BINARY; }

// Runs the binary with `args`; returns its exit status, stdout into *out.
inline int Sagaflow(const std::string& args, std::string* out = nullptr, const std::string& log = "/dev/null") {
  std::string tmp = (fs::temp_directory_path() / ("sagaflow-e2e-out-" + std::to_string(::getpid()))).string();
  int rc = std::system((Quote(Bin()) + " " + args + " > " + Quote(tmp) + " 2>> " + Quote(log)).c_str());
  if (out) *out = ReadFile(tmp);
  std::remove(tmp.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Every query of `sagaflow query` over the store at `uri`, as JSON, one per line.
inline std::string Answers(const std::string& uri) {
  const std::string query = "query --store " + Quote(uri) + " --format json ";
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
    EXPECT_EQ(Sagaflow(query + q, &out), 0) << q;
    all.append(q).append(": ").append(out);
  }
  return all;
}

class KafkaEndToEndTest : public ::testing::Test {
 protected:
  static inline Reference* ref_ = nullptr;
  static inline bool keep_ = false;

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
      r->entities = EntitiesPath();
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
      r->answers = Answers("sqlite:" + r->db);
    }
    ASSERT_FALSE(ref_->fingerprint.empty());
    dir_ = ref_->dir / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }

  static std::string EntitiesPath() { return ::sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv"; }

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
    std::vector<std::string> args = {Bin(),          "produce",  "--input",    ref_->corpus,        "--seed",  kSeed,
                                     "--start-time", kStartTime, "--interval", kInterval,           "--kafka", brokers_,
                                     "--topic",      "events",   "--rate",     std::to_string(rate)};
    return std::make_unique<Child>(args, Path("produce.out"), Path("produce.log"), false);
  }

  // `sagaflow run` of the group into the store `db` (a SQLite path, or a
  // store URI with a scheme), stopping when idle.
  std::unique_ptr<Child> StartConsumer(const std::string& group, const std::string& db, const std::string& name,
                                       int idle_seconds = 4, const std::string& batch_size = "") {
    std::vector<std::string> args = {
        Bin(),
        "run",
        "--progress",
        "never",
        "--summary",
        "json",
        "--source",
        "kafka://" + brokers_ + "/events?group=" + group + kGroupProperties + extra_properties_,
        "--store",
        db.find(':') == std::string::npos ? "sqlite:" + db : db,
        "--model",
        ref_->model,
        "--entities",
        ref_->entities,
        "--stop-when-idle",
        std::to_string(idle_seconds),
        "--workers",
        "2"};
    if (!batch_size.empty()) {
      args.push_back("--batch-size");
      args.push_back(batch_size);
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

  // The offset after the store's checkpoint of each partition (-1: none).
  std::vector<int64_t> StoreOffsets(const std::string& db) {
    std::vector<int64_t> out(kPartitions, -1);
    auto d = sinks::sqlite::Db::Open(db, sinks::sqlite::Db::Mode::kReadOnly);
    if (!d.ok()) return out;
    auto q = (*d)->Prepare("SELECT stream_key, position FROM source WHERE position IS NOT NULL");
    if (!q.ok()) return out;
    for (auto row = q->Step(); row.ok() && *row; row = q->Step()) {
      const std::string key = q->Text(0);
      out.at(std::stoul(key.substr(key.rfind('/') + 1))) = q->Int(1) + 1;
    }
    return out;
  }

  // The mock broker dropped no record (it keeps ~5 MB per partition): a
  // difference is then the consumer's.
  void ExpectNothingTrimmed() {
    for (const auto& [low, high] : Watermarks(brokers_, "events", kPartitions)) {
      EXPECT_EQ(low, 0) << "the dev broker trimmed a partition: the test sent too much";
    }
  }

  // The topic holds each of the reference's events once: nothing trimmed,
  // and no batch appended twice (the dev broker does not deduplicate an
  // idempotent producer's retries).
  void ExpectEachEventOnceInTheTopic() {
    ExpectNothingTrimmed();
    int64_t in_topic = 0;
    for (const auto& [low, high] : Watermarks(brokers_, "events", kPartitions)) in_topic += high - low;
    std::istringstream events(ReadFile(ref_->events));
    int64_t produced = 0;
    for (std::string line; std::getline(events, line);) produced += line.empty() ? 0 : 1;
    EXPECT_EQ(in_topic, produced) << "the topic holds other records than the events produced (a producer retry "
                                     "appended twice?): the store cannot equal the file run";
  }

  // The store equals the reference, and the group committed every offset.
  void ExpectSameAsFileRun(const std::string& db, const std::string& group) {
    ExpectEachEventOnceInTheTopic();
    const std::string actual = StoreFingerprint(db);
    EXPECT_EQ(actual, ref_->fingerprint) << FirstDifference(ref_->fingerprint, actual);
    EXPECT_EQ(Answers("sqlite:" + db), ref_->answers);
    EXPECT_EQ(CommittedOffsets(brokers_, "events", kPartitions, group), EndOffsets(brokers_, "events", kPartitions));
  }

  fs::path dir_;
  std::string extra_properties_;  // appended to the consumers' kafka:// address ("&name=value...")
  std::unique_ptr<Child> broker_;
  std::string brokers_;
};

}  // namespace sagaflow::kafka::testing
