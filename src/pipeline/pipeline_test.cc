// The pipeline in process, with a tiny hand-written model ("ring" -> lotr,
// "wand" -> hp, anything else -> got) and dictionary: totals, exactly-once
// on re-runs and after failures at every batch, ordering under many workers
// and tiny batches, and time-bounded batches on a slow stream.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "pipeline/analysis_model.h"
#include "query/analytics.h"
#include "sinks/sqlite/sqlite_analytics.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "sources/file_source.h"
#include "support/tiny_model.h"
#include "text/classifier.h"
#include "text/entity_dictionary.h"
#include "text/entity_matcher.h"

namespace sagaflow::pipeline {
namespace {

namespace fs = std::filesystem;

using ::sagaflow::testing::kTinyEntitiesTsv;
using ::sagaflow::testing::kTinyModelJson;

// A sink that fails its n-th write (1-based), delegating the others.
class FailingSink : public Sink {
 public:
  FailingSink(Sink* inner, int fail_at) : inner_(inner), fail_at_(fail_at) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status Prepare(const Dimensions& d) override { return inner_->Prepare(d); }
  Result<std::optional<sources::Checkpoint>> LoadCheckpoint(std::string_view key) override {
    return inner_->LoadCheckpoint(key);
  }
  Result<WriteReport> Write(const Batch& b) override {
    if (++writes_ == fail_at_) return Status::IoError("injected failure");
    auto r = inner_->Write(b);
    committed_.fetch_add(1);
    return r;
  }
  std::atomic<int> committed_{0};

 private:
  Sink* inner_;
  int fail_at_;
  int writes_ = 0;
};

// A sink whose n-th write waits for the store like a write retrying through
// an outage: until Abandon(), then fails as the ClickHouse sink does.
class StuckSink : public Sink {
 public:
  StuckSink(Sink* inner, int stuck_at) : inner_(inner), stuck_at_(stuck_at) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status Prepare(const Dimensions& d) override { return inner_->Prepare(d); }
  Result<std::optional<sources::Checkpoint>> LoadCheckpoint(std::string_view key) override {
    return inner_->LoadCheckpoint(key);
  }
  Result<WriteReport> Write(const Batch& b) override {
    if (++writes_ < stuck_at_) return inner_->Write(b);
    std::unique_lock<std::mutex> lock(mu_);
    stuck_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return abandoned_; });
    return Status::Unavailable("store unreachable; abandoned");
  }
  void Abandon() noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    abandoned_ = true;
    cv_.notify_all();
  }
  void WaitUntilStuck() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stuck_; });
  }

 private:
  Sink* inner_;
  int stuck_at_;
  int writes_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stuck_ = false, abandoned_ = false;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sagaflow-pipeline-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto c = text::Classifier::FromJson(kTinyModelJson);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto d = text::EntityDictionary::FromCurated(kTinyEntitiesTsv);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto m = text::EntityMatcher::Build(*d);
    ASSERT_TRUE(m.ok());
    auto dims = Dimensions::Build(c->labels(), EntityDims(*d));
    ASSERT_TRUE(dims.ok());
    model_.reset(new AnalysisModel{std::move(*c), std::move(*d), std::move(*m), std::move(*dims)});
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Events(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      const char* texts[] = {"Jon Snow met Jon and Tom", "the ring of Frodo", "a wand for Harry and Tom", "   ",
                             "Frodo saw Jon"};
      if (i % 13 == 12) {
        s += "{\"id\":\"bad" + std::to_string(i) + "\",\"time\":1,\"readers\":-5,\"text\":\"x\"}\n";
      } else if (i % 17 == 16) {
        s += "not json at all\n";
      } else {
        s += "{\"id\":\"e" + std::to_string(i) + "\",\"time\":" + std::to_string(1000 + i * 600) +
             ",\"readers\":" + std::to_string(100 + i) + ",\"text\":\"" + texts[i % 5] + "\"}\n";
      }
    }
    return s;
  }
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  Status RunOnce(const std::string& events, const std::string& db, PipelineOptions o, int fail_at = 0,
                 PipelineCounters* counters_out = nullptr) {
    auto source = sources::FileSource::Open(events, o.max_record_bytes);
    if (!source.ok()) return source.status();
    auto sink = sinks::sqlite::SqliteSink::Open(db);
    if (!sink.ok()) return sink.status();
    FailingSink failing(sink->get(), fail_at);
    PipelineCounters local("file", "sqlite");
    PipelineCounters* counters = counters_out ? counters_out : &local;
    Pipeline p(**source, failing, model_->classifier, model_->matcher, model_->dimensions, o, counters);
    return p.Run();
  }

  // Everything the queries answer, as one comparable string.
  std::string Answers(const std::string& db) {
    auto a = sinks::sqlite::SqliteAnalytics::Open(db);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    std::string out;
    auto sagas = (*a)->Sagas({});
    for (const auto& r : *sagas) {
      out += (r.saga ? *r.saga : "null") + " " + std::to_string(r.events) + " " + std::to_string(r.readers) + "\n";
    }
    for (const char* saga : {"got", "lotr", "hp"}) {
      auto top = (*a)->TopEntities({saga, {}, 0, query::Measure::kMentions});
      for (const auto& r : *top) {
        out += std::string(saga) + ":" + r.entity + " " + std::to_string(r.mentions) + " " + std::to_string(r.readers) +
               "\n";
      }
    }
    auto rejected = (*a)->Rejected();
    for (const auto& r : *rejected) out += r.reason + " " + std::to_string(r.events) + "\n";
    auto trend = (*a)->Trend({"Tom", std::nullopt, query::Bucket::kHour, {}});
    for (const auto& r : *trend) {
      out += "Tom@" + std::to_string(r.time) + " " + std::to_string(r.mentions) + "\n";
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<AnalysisModel> model_;
};

TEST(StableIds, MatchTheDocumentedFormula) {
  // Values from the Python snippet of docs/schema.md: every store, machine
  // and run must give these rows these ids.
  EXPECT_EQ(SagaId("got"), 3758204079891415316);
  EXPECT_EQ(SagaId("lotr"), 5224868001229747681);
  EXPECT_EQ(SagaId("hp"), 8814598499761273186);
  EXPECT_EQ(EntityId("", "Tom"), 8662802693492222380);
  EXPECT_EQ(EntityId("got", "Jon Snow"), 3504253271888050974);
  EXPECT_EQ(EntityId("lotr", "\xC3\x89owyn"), 5671415159371763844);
}

TEST(Dimensions, LabelsFirstAndDuplicatesShareARow) {
  std::vector<EntityDim> entities = {
      {0, "Tom", "", 0, "other"}, {0, "Narnia", "narnia", 0, "place"}, {0, "Tom", "", 0, "other"}};
  auto d = Dimensions::Build({"got", "lotr", "hp"}, entities);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->sagas.size(), 4u);
  EXPECT_EQ(d->sagas[3].name, "narnia");  // a scope that is not a label is a saga too
  EXPECT_EQ(d->entities.size(), 2u);
  EXPECT_EQ(d->entity_row, (std::vector<uint32_t>{0, 1, 0}));
  EXPECT_TRUE(d->has_duplicate_entities);
  EXPECT_EQ(d->entities[1].saga_id, SagaId("narnia"));
  EXPECT_FALSE(Dimensions::Build({"a/b"}, {}).ok());
}

TEST_F(PipelineTest, StoresWhatTheModelAndDictionarySay) {
  std::string events = WriteFile("e.jsonl", Events(5));
  std::string db = (dir_ / "s.db").string();
  PipelineCounters counters("file", "sqlite");
  ASSERT_TRUE(RunOnce(events, db, {}, 0, &counters).ok());
  auto s = counters.Snapshot();
  EXPECT_EQ(s.records, 5u);
  EXPECT_EQ(s.classified, 4u);
  EXPECT_EQ(s.empty, 1u);
  EXPECT_EQ(s.rejected, 0u);
  // e0 got: Jon Snow + Jon -> "Jon Snow" 2, Tom 1 (readers 100); e1 lotr: Frodo 1 (101);
  // e2 hp: Harry 1, Tom 1 (102); e3 empty (103); e4 got ("Frodo" is lotr-scoped): Jon 1 (104).
  EXPECT_EQ(Answers(db),
            "got 2 204\nhp 1 102\nlotr 1 101\nnull 1 103\n"
            "got:Jon Snow 3 204\ngot:Tom 1 100\n"
            "lotr:Frodo 1 101\n"
            "hp:Harry 1 102\nhp:Tom 1 102\n"
            "Tom@0 2\n");
}

TEST_F(PipelineTest, ReRunAddsNothing) {
  std::string events = WriteFile("e.jsonl", Events(300));
  std::string db = (dir_ / "s.db").string();
  PipelineOptions o;
  o.batch_records = 16;
  ASSERT_TRUE(RunOnce(events, db, o).ok());
  std::string first = Answers(db);
  PipelineCounters again("file", "sqlite");
  ASSERT_TRUE(RunOnce(events, db, o, 0, &again).ok());
  EXPECT_EQ(Answers(db), first);
  EXPECT_EQ(again.Snapshot().records, 0u);  // resumed after the last committed record
  EXPECT_EQ(again.Snapshot().duplicates, 0u);
}

TEST_F(PipelineTest, FailureAtAnyBatchThenRestartGivesTheSameTotals) {
  std::string events = WriteFile("e.jsonl", Events(200));
  PipelineOptions o;
  o.batch_records = 20;  // 10 batches
  o.workers = 3;
  std::string reference_db = (dir_ / "ref.db").string();
  ASSERT_TRUE(RunOnce(events, reference_db, o).ok());
  const std::string reference = Answers(reference_db);
  ASSERT_NE(reference.find("invalid_json"), std::string::npos);
  ASSERT_NE(reference.find("negative_readers"), std::string::npos);
  for (int fail_at = 1; fail_at <= 10; ++fail_at) {
    std::string db = (dir_ / ("f" + std::to_string(fail_at) + ".db")).string();
    Status st = RunOnce(events, db, o, fail_at);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("injected failure"), std::string::npos) << st.ToString();
    // A second failure on the restart, then a clean finish.
    RunOnce(events, db, o, 2);
    ASSERT_TRUE(RunOnce(events, db, o).ok());
    EXPECT_EQ(Answers(db), reference) << "failing at batch " << fail_at;
  }
}

TEST_F(PipelineTest, ManyWorkersAndTinyBatchesCommitInOrder) {
  std::string events = WriteFile("e.jsonl", Events(500));
  std::string reference_db = (dir_ / "ref.db").string();
  ASSERT_TRUE(RunOnce(events, reference_db, {}).ok());
  for (size_t workers : {1, 2, 5}) {
    for (size_t batch : {1, 3, 64}) {
      std::string db = (dir_ / ("w" + std::to_string(workers) + "b" + std::to_string(batch) + ".db")).string();
      PipelineOptions o;
      o.workers = workers;
      o.batch_records = batch;
      o.max_batches_in_flight = workers * 3;
      PipelineCounters counters("file", "sqlite");
      ASSERT_TRUE(RunOnce(events, db, o, 0, &counters).ok());
      EXPECT_EQ(Answers(db), Answers(reference_db));
      EXPECT_EQ(counters.Snapshot().batches, (500 + batch - 1) / batch);
      // The stored checkpoint is the last record: everything was acknowledged in order.
      auto sink = sinks::sqlite::SqliteSink::Open(db);
      ASSERT_TRUE((*sink)->Prepare(model_->dimensions).ok());
      auto src = sources::FileSource::Open(events, 1 << 20);
      std::string first_line = Events(1);
      first_line.pop_back();
      auto cp = (*sink)->LoadCheckpoint(sources::FileSource::KeyForFirstLine(first_line, false));
      ASSERT_TRUE(cp.ok() && cp->has_value());
      EXPECT_EQ((*cp)->line, 500u);
    }
  }
}

TEST_F(PipelineTest, TooLargeRecordsAreDeadLettered) {
  std::string big = "{\"id\":\"big\",\"time\":1,\"readers\":1,\"text\":\"" + std::string(5000, 'a') + "\"}\n";
  std::string events = WriteFile("e.jsonl", Events(3) + big + Events(2));
  std::string db = (dir_ / "s.db").string();
  PipelineOptions o;
  o.max_record_bytes = 1000;
  ASSERT_TRUE(RunOnce(events, db, o).ok());
  auto a = sinks::sqlite::SqliteAnalytics::Open(db);
  auto rejected = (*a)->Rejected();
  ASSERT_EQ(rejected->size(), 1u);
  EXPECT_EQ((*rejected)[0].reason, "too_large");
  auto letters = (*a)->DeadLetters(0);
  EXPECT_EQ((*letters)[0].line, 4);
}

TEST_F(PipelineTest, SlowStreamsCommitWithinTheLinger) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int saved = ::dup(0);
  ::dup2(fds[0], 0);
  ::close(fds[0]);
  auto source = sources::FileSource::Open("-", 1 << 20);
  ASSERT_TRUE(source.ok());
  std::string db = (dir_ / "s.db").string();
  auto sink = sinks::sqlite::SqliteSink::Open(db);
  FailingSink counting(sink->get(), 0);
  PipelineOptions o;
  o.linger = std::chrono::milliseconds(50);
  PipelineCounters counters("file", "sqlite");
  Pipeline p(**source, counting, model_->classifier, model_->matcher, model_->dimensions, o, &counters);
  std::atomic<bool> committed_before_eof{false};
  std::thread writer([&] {
    std::string first = Events(3);
    (void)!::write(fds[1], first.data(), first.size());
    // The stream stays open: only the linger can commit these three.
    for (int i = 0; i < 500 && counting.committed_.load() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    committed_before_eof = counting.committed_.load() > 0;
    ::close(fds[1]);
  });
  Status st = p.Run();
  writer.join();
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(committed_before_eof);
  EXPECT_EQ(counters.Snapshot().classified + counters.Snapshot().empty, 3u);
}

TEST_F(PipelineTest, StopCommitsWhatWasRead) {
  std::string events = WriteFile("e.jsonl", Events(2000));
  std::string db = (dir_ / "s.db").string();
  auto source = sources::FileSource::Open(events, 1 << 20);
  auto sink = sinks::sqlite::SqliteSink::Open(db);
  PipelineOptions o;
  o.batch_records = 10;
  PipelineCounters counters("file", "sqlite");
  Pipeline p(**source, **sink, model_->classifier, model_->matcher, model_->dimensions, o, &counters);
  p.RequestStop();
  ASSERT_TRUE(p.Run().ok());
  // Resume completes the input exactly.
  ASSERT_TRUE(RunOnce(events, db, o).ok());
  std::string ref = (dir_ / "ref.db").string();
  ASSERT_TRUE(RunOnce(events, ref, o).ok());
  EXPECT_EQ(Answers(db), Answers(ref));
}

// A stop while the store is down: RequestStop() alone would wait for the
// store; Abandon() ends the run without acknowledging what was not stored,
// and the next run completes the input exactly.
TEST_F(PipelineTest, AbandonWhileTheStoreIsDownLosesAndRepeatsNothing) {
  std::string events = WriteFile("e.jsonl", Events(500));
  std::string db = (dir_ / "s.db").string();
  PipelineOptions o;
  o.batch_records = 20;
  for (int stuck_at : {1, 3}) {
    auto source = sources::FileSource::Open(events, 1 << 20);
    auto sink = sinks::sqlite::SqliteSink::Open(db);
    ASSERT_TRUE(source.ok() && sink.ok());
    StuckSink stuck(sink->get(), stuck_at);
    PipelineCounters counters("file", "sqlite");
    Pipeline p(**source, stuck, model_->classifier, model_->matcher, model_->dimensions, o, &counters);
    Status result;
    std::thread run([&] { result = p.Run(); });
    stuck.WaitUntilStuck();
    p.RequestStop();  // a graceful stop waits for the store...
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    p.Abandon();  // ...until it is abandoned
    run.join();
    EXPECT_EQ(result.code(), Status::Code::kUnavailable) << result.ToString();
  }
  ASSERT_TRUE(RunOnce(events, db, o).ok());
  std::string ref = (dir_ / "ref.db").string();
  ASSERT_TRUE(RunOnce(events, ref, o).ok());
  EXPECT_EQ(Answers(db), Answers(ref));
}

}  // namespace
}  // namespace sagaflow::pipeline
