// SqliteSink and SqliteAnalytics against hand-made batches: schema and
// migrations, atomic checkpoints, the duplicate guard, and every query's
// semantics (windows, ordering, empty texts, unknown names).
#include "sinks/sqlite/sqlite_sink.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "pipeline/batch_testing.h"
#include "sinks/sqlite/migrations.h"
#include "sinks/sqlite/sqlite_analytics.h"

namespace sagaflow::sinks::sqlite {
namespace {

namespace fs = std::filesystem;
using pipeline::Batch;
using pipeline::Dimensions;
using pipeline::EntityDim;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("sagaflow-sqlite-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    Remove();
    std::vector<EntityDim> entities = {{0, "Jon", "got", 0, "character"},
                                       {0, "Frodo", "lotr", 0, "character"},
                                       {0, "Winterfell", "got", 0, "place"},
                                       {0, "Tom", "", 0, "other"}};
    auto d = Dimensions::Build({"got", "lotr", "hp"}, entities);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dims_ = *d;
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }

  std::unique_ptr<SqliteSink> OpenSink() {
    auto s = SqliteSink::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE((*s)->Prepare(dims_).ok());
    return std::move(*s);
  }
  std::unique_ptr<SqliteAnalytics> OpenAnalytics() {
    auto a = SqliteAnalytics::Open(path_);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return std::move(*a);
  }

  // An event at `position` of stream 0 (pipeline/batch_testing.h).
  static void AddEvent(Batch* b, uint64_t position, int saga, int64_t readers, int64_t time,
                       const std::vector<std::pair<uint32_t, uint32_t>>& mentions = {}) {
    pipeline::testing::AddEvent(b, 0, position, saga, readers, time, mentions);
  }
  static void Checkpoint(Batch* b, uint64_t position) { pipeline::testing::SetCheckpoint(b, position); }

  std::string path_;
  Dimensions dims_;
};

TEST_F(SqliteStoreTest, MigratesOnceAndRecordsTheVersion) {
  { auto sink = OpenSink(); }
  { auto sink = OpenSink(); }  // second start: nothing dropped, nothing re-applied
  auto db = Db::Open(path_, Db::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  auto v = SchemaVersion(**db);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, LatestSchemaVersion());
  auto count = (*db)->Prepare("SELECT count(*) FROM schema_version");
  ASSERT_TRUE(count->Step().ok());
  EXPECT_EQ(count->Int(0), static_cast<int64_t>(Migrations().size()));
}

TEST_F(SqliteStoreTest, RefusesANewerSchema) {
  { auto sink = OpenSink(); }
  {
    auto db = Db::Open(path_, Db::Mode::kReadWriteCreate);
    ASSERT_TRUE((*db)->Exec("INSERT INTO schema_version VALUES (999, 'future', 0)").ok());
  }
  auto sink = SqliteSink::Open(path_);
  ASSERT_TRUE(sink.ok());
  Status st = (*sink)->Prepare(dims_);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_EQ(SqliteAnalytics::Open(path_).status().code(), Status::Code::kUnsupported);
}

int64_t PageSize(const std::string& path) {
  auto db = Db::Open(path, Db::Mode::kReadOnly);
  EXPECT_TRUE(db.ok());
  auto q = (*db)->Prepare("PRAGMA page_size");
  EXPECT_TRUE(q.ok() && *q->Step());
  return q->Int(0);
}

TEST_F(SqliteStoreTest, ANewDatabaseGetsThePageSizeAnExistingOneKeepsItsOwn) {
  { auto sink = OpenSink(); }
  EXPECT_EQ(PageSize(path_), SqliteOptions::kDefaultPageSize);
  Remove();
  {
    auto sink = SqliteSink::Open(path_, SqliteOptions{.page_size = 4096});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Prepare(dims_).ok());
  }
  EXPECT_EQ(PageSize(path_), 4096);
  { auto sink = OpenSink(); }  // reopened with the default: the file's size stays
  EXPECT_EQ(PageSize(path_), 4096);
  for (int bad : {0, 256, 3000, 131072}) {
    EXPECT_EQ(SqliteSink::Open(path_, SqliteOptions{.page_size = bad}).status().code(), Status::Code::kInvalidArgument)
        << bad;
  }
}

TEST_F(SqliteStoreTest, DimensionsHaveStableIds) {
  { auto sink = OpenSink(); }
  auto db = Db::Open(path_, Db::Mode::kReadOnly);
  auto q = (*db)->Prepare("SELECT saga_id FROM dim_saga WHERE name = 'got'");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), pipeline::SagaId("got"));
  // FNV-1a 64 of "saga/got" with the top bit cleared (docs/schema.md).
  EXPECT_EQ(pipeline::SagaId("got"), pipeline::StableId("saga/got"));
  auto e = (*db)->Prepare("SELECT entity_id, kind, saga_id IS NULL FROM dim_entity WHERE name = 'Tom'");
  ASSERT_TRUE(*e->Step());
  EXPECT_EQ(e->Int(0), pipeline::EntityId("", "Tom"));
  EXPECT_EQ(e->Text(1), "other");
  EXPECT_EQ(e->Int(2), 1);
}

TEST_F(SqliteStoreTest, CheckpointIsStoredWithTheRows) {
  auto sink = OpenSink();
  EXPECT_FALSE((*sink->LoadCheckpoint("file:test")).has_value());
  Batch b;
  AddEvent(&b, 0, 0, 100, 10, {{0, 2}});
  AddEvent(&b, 10, 1, 200, 20, {{1, 1}});
  Checkpoint(&b, 10);
  auto r = sink->Write(b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->events, 2u);
  EXPECT_EQ(r->mentions, 2u);
  auto cp = sink->LoadCheckpoint("file:test");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->position, 10u);
  EXPECT_EQ((*cp)->line, 11u);
  EXPECT_EQ((*cp)->digest, 1234u);
}

TEST_F(SqliteStoreTest, DuplicatesAreIgnoredAndCounted) {
  auto sink = OpenSink();
  Batch b;
  AddEvent(&b, 0, 0, 100, 10, {{0, 2}});
  b.dead_letters.push_back({0, 5, 2, events::RejectReason::kInvalidJson, "bad", "{", 1});
  Checkpoint(&b, 5);
  ASSERT_TRUE(sink->Write(b).ok());
  auto again = sink->Write(b);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->events, 0u);
  EXPECT_EQ(again->mentions, 0u);
  EXPECT_EQ(again->dead_letters, 0u);
  EXPECT_EQ(again->duplicates, 2u);
  auto a = OpenAnalytics();
  auto sagas = a->Sagas({});
  ASSERT_TRUE(sagas.ok());
  EXPECT_EQ((*sagas)[0].events, 1);  // got
}

TEST_F(SqliteStoreTest, AFailedBatchLeavesNothingBehind) {
  auto sink = OpenSink();
  Batch good;
  AddEvent(&good, 0, 0, 100, 10, {{0, 1}});
  Checkpoint(&good, 0);
  ASSERT_TRUE(sink->Write(good).ok());
  Batch bad;
  AddEvent(&bad, 10, 0, 100, 10, {{0, 1}});
  AddEvent(&bad, 20, 0, 100, 10, {{0, 0}});  // mentions > 0 is a CHECK constraint
  Checkpoint(&bad, 20);
  EXPECT_FALSE(sink->Write(bad).ok());
  auto cp = sink->LoadCheckpoint("file:test");
  EXPECT_EQ((*cp)->position, 0u);  // unchanged
  auto sagas = OpenAnalytics()->Sagas({});
  EXPECT_EQ((*sagas)[0].events, 1);  // the first event of the bad batch rolled back too
}

// Rows of a day rollup table: "day:entity index or saga:mentions or events".
std::vector<std::string> DayRows(const std::string& path, const char* table) {
  auto db = Db::Open(path, Db::Mode::kReadOnly);
  EXPECT_TRUE(db.ok());
  const bool entity = std::string_view(table) == "rollup_entity_day";
  auto q = (*db)->Prepare(fmt::format("SELECT bucket / 86400, {}, {} FROM {} ORDER BY 1, 2",
                                      entity ? "entity_id" : "saga_id", entity ? "mentions" : "events", table));
  EXPECT_TRUE(q.ok());
  std::vector<std::string> rows;
  while (*q->Step()) rows.push_back(fmt::format("{}:{}:{}", q->Int(0), q->Int(1), q->Int(2)));
  return rows;
}

int64_t DaysUntil(const std::string& path) {
  auto db = Db::Open(path, Db::Mode::kReadOnly);
  auto q = (*db)->Prepare("SELECT days_until FROM rollup_state");
  EXPECT_TRUE(q.ok() && *q->Step());
  return q->Int(0);
}

// Day rows wait until a batch brings a newer day: then the passed days'
// hours are folded into them, and a late event adds to its day's rows.
TEST_F(SqliteStoreTest, PassedDaysAreFoldedIntoDayRows) {
  auto sink = OpenSink();
  const int64_t jon = pipeline::EntityId("got", "Jon"), got = pipeline::SagaId("got");
  Batch day0;
  AddEvent(&day0, 0, 0, 100, 3600, {{0, 2}});
  AddEvent(&day0, 1, 0, 100, 7300, {{0, 1}});
  Checkpoint(&day0, 1);
  ASSERT_TRUE(sink->Write(day0).ok());
  EXPECT_EQ(DaysUntil(path_), 0);
  EXPECT_TRUE(DayRows(path_, "rollup_entity_day").empty());
  EXPECT_TRUE(DayRows(path_, "rollup_saga_day").empty());

  Batch day2;
  AddEvent(&day2, 2, 0, 100, 2 * 86400 + 5, {{0, 4}});
  Checkpoint(&day2, 2);
  ASSERT_TRUE(sink->Write(day2).ok());
  EXPECT_EQ(DaysUntil(path_), 2 * 86400);
  EXPECT_EQ(DayRows(path_, "rollup_entity_day"), std::vector<std::string>{fmt::format("0:{}:3", jon)});
  EXPECT_EQ(DayRows(path_, "rollup_saga_day"), std::vector<std::string>{fmt::format("0:{}:2", got)});

  Batch late;
  AddEvent(&late, 3, 0, 100, 86400 - 1, {{0, 5}});  // day 0, folded already
  AddEvent(&late, 4, 0, 100, 86400, {{0, 7}});      // day 1, folded (empty) already
  Checkpoint(&late, 4);
  ASSERT_TRUE(sink->Write(late).ok());
  EXPECT_EQ(DaysUntil(path_), 2 * 86400);
  EXPECT_EQ(DayRows(path_, "rollup_entity_day"),
            (std::vector<std::string>{fmt::format("0:{}:8", jon), fmt::format("1:{}:7", jon)}));
  // Every window answers from the facts' sums.
  auto a = OpenAnalytics();
  for (auto [from, to, mentions] : {std::tuple{0, 3 * 86400, 19}, {0, 86400 - 1, 8}, {86400, 3 * 86400, 11}}) {
    auto top = a->TopEntities({"got", {from, to}, 10, query::Measure::kMentions});
    ASSERT_TRUE(top.ok());
    ASSERT_EQ(top->size(), 1u);
    EXPECT_EQ((*top)[0].mentions, mentions) << from << ".." << to;
  }
}

// The same inside a many-row fact_readers insert (OR FAIL: the rows it
// inserted before the bad one stay until the batch's rollback).
TEST_F(SqliteStoreTest, AFailedManyRowInsertLeavesNothingBehind) {
  auto sink = OpenSink();
  Batch bad;
  for (uint32_t i = 0; i < 200; ++i) AddEvent(&bad, i, 0, 100, 10, {{0, i == 130 ? 0U : 1U}});
  Checkpoint(&bad, 199);
  EXPECT_FALSE(sink->Write(bad).ok());
  auto cp = sink->LoadCheckpoint("file:test");
  ASSERT_TRUE(cp.ok());
  EXPECT_FALSE(cp->has_value());
  auto sagas = OpenAnalytics()->Sagas({});
  ASSERT_TRUE(sagas.ok());
  for (const auto& saga : *sagas) EXPECT_EQ(saga.events, 0) << saga.saga.value_or("(empty)");
  auto top = OpenAnalytics()->TopEntities({"got", {}, 0, query::Measure::kMentions});
  ASSERT_TRUE(top.ok());
  EXPECT_TRUE(top->empty());
}

TEST_F(SqliteStoreTest, CheckpointsOnlyMoveForward) {
  auto sink = OpenSink();
  Batch later;
  AddEvent(&later, 50, 0, 1, 1);
  Checkpoint(&later, 50);
  ASSERT_TRUE(sink->Write(later).ok());
  Batch earlier;
  AddEvent(&earlier, 10, 0, 1, 1);
  Checkpoint(&earlier, 10);
  ASSERT_TRUE(sink->Write(earlier).ok());
  EXPECT_EQ((*sink->LoadCheckpoint("file:test"))->position, 50u);
}

class SqliteQueryTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    auto sink = OpenSink();
    Batch b;
    // entity indexes: 0 Jon (got), 1 Frodo (lotr), 2 Winterfell (got), 3 Tom (unscoped)
    AddEvent(&b, 0, 0, 100, int64_t{3600} * 0, {{0, 3}, {2, 1}});
    AddEvent(&b, 1, 0, 50, int64_t{3600} * 1, {{0, 1}, {2, 4}});
    AddEvent(&b, 2, 0, 1000, 86400 + 60, {{3, 1}});
    AddEvent(&b, 3, 1, 70, 86400 + 120, {{1, 2}, {3, 2}});
    AddEvent(&b, 4, -1, 30, int64_t{86400} * 2, {});
    AddEvent(&b, 5, -1, 5, int64_t{86400} * 3, {});
    b.dead_letters.push_back({0, 6, 7, events::RejectReason::kInvalidJson, "malformed", "{", 1});
    b.dead_letters.push_back({0, 7, 8, events::RejectReason::kMissingField, "missing \"id\"", "{}", 2});
    b.dead_letters.push_back({0, 8, 9, events::RejectReason::kInvalidJson, "malformed", "[", 1});
    Checkpoint(&b, 8);
    ASSERT_TRUE(sink->Write(b).ok());
  }
};

TEST_F(SqliteQueryTest, TopEntitiesByMentionsAndReaders) {
  auto a = OpenAnalytics();
  auto rows = a->TopEntities({"got", {}, 8, query::Measure::kMentions});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  // Winterfell 5 mentions/150 readers, Jon 4/150, Tom 1/1000.
  EXPECT_EQ((*rows)[0].entity, "Winterfell");
  EXPECT_EQ((*rows)[0].mentions, 5);
  EXPECT_EQ((*rows)[0].readers, 150);
  EXPECT_EQ((*rows)[1].entity, "Jon");
  EXPECT_EQ((*rows)[2].entity, "Tom");
  auto by_readers = a->TopEntities({"got", {}, 2, query::Measure::kReaders});
  ASSERT_EQ(by_readers->size(), 2u);
  EXPECT_EQ((*by_readers)[0].entity, "Tom");
  EXPECT_EQ((*by_readers)[1].entity, "Winterfell");  // tie on readers with Jon: more mentions first
  auto lotr = a->TopEntities({"lotr", {}, 0, query::Measure::kMentions});
  ASSERT_EQ(lotr->size(), 2u);
  EXPECT_EQ((*lotr)[0].entity, "Frodo");  // tie on mentions (2) and readers (70): by name
  EXPECT_EQ((*lotr)[1].entity, "Tom");
  auto hp = a->TopEntities({"hp", {}, 8, query::Measure::kMentions});
  ASSERT_TRUE(hp.ok());
  EXPECT_TRUE(hp->empty());
}

TEST_F(SqliteQueryTest, WindowsIncludeBothEnds) {
  auto a = OpenAnalytics();
  auto rows = a->TopEntities({"got", {3600, 86400 + 60}, 8, query::Measure::kMentions});
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].entity, "Winterfell");
  EXPECT_EQ((*rows)[0].mentions, 4);
  rows = a->TopEntities({"got", {3601, 86400 + 59}, 8, query::Measure::kMentions});
  EXPECT_TRUE(rows->empty());
  auto sagas = a->Sagas({86400, std::nullopt});
  ASSERT_EQ(sagas->size(), 4u);
  EXPECT_EQ(*(*sagas)[0].saga, "got");
  EXPECT_EQ((*sagas)[0].events, 1);
  EXPECT_EQ((*sagas)[0].readers, 1000);
}

TEST_F(SqliteQueryTest, SagasListEveryKnownSagaThenEmptyTexts) {
  auto rows = OpenAnalytics()->Sagas({});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ(*(*rows)[0].saga, "got");
  EXPECT_EQ((*rows)[0].events, 3);
  EXPECT_EQ((*rows)[0].readers, 1150);
  EXPECT_EQ(*(*rows)[1].saga, "hp");
  EXPECT_EQ((*rows)[1].events, 0);
  EXPECT_EQ(*(*rows)[2].saga, "lotr");
  EXPECT_FALSE((*rows)[3].saga.has_value());
  EXPECT_EQ((*rows)[3].events, 2);
  EXPECT_EQ((*rows)[3].readers, 35);
}

TEST_F(SqliteQueryTest, RejectedByReason) {
  auto a = OpenAnalytics();
  auto rows = a->Rejected();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].reason, "invalid_json");
  EXPECT_EQ((*rows)[0].events, 2);
  EXPECT_EQ((*rows)[1].reason, "missing_field");
  auto letters = a->DeadLetters(2);
  ASSERT_EQ(letters->size(), 2u);
  EXPECT_EQ((*letters)[0].line, 9);
  EXPECT_EQ((*letters)[0].source, "file:test");
  EXPECT_EQ((*letters)[1].detail, "missing \"id\"");
}

TEST_F(SqliteQueryTest, TrendBucketsByHourAndDay) {
  auto a = OpenAnalytics();
  auto days = a->Trend({"Tom", std::nullopt, query::Bucket::kDay, {}});
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].time, 86400);
  EXPECT_EQ((*days)[0].mentions, 3);
  EXPECT_EQ((*days)[0].readers, 1070);
  auto got_only = a->Trend({"Tom", std::string("got"), query::Bucket::kDay, {}});
  EXPECT_EQ((*got_only)[0].mentions, 1);
  auto hours = a->Trend({"Jon", std::nullopt, query::Bucket::kHour, {}});
  ASSERT_EQ(hours->size(), 2u);
  EXPECT_EQ((*hours)[0].time, 0);
  EXPECT_EQ((*hours)[1].time, 3600);
  EXPECT_EQ((*hours)[1].mentions, 1);
}

TEST_F(SqliteQueryTest, SagaTrendBucketsEventsPerSagaWithEmptyTextsLast) {
  auto a = OpenAnalytics();
  auto days = a->SagaTrend({}, query::Bucket::kDay);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  // day 0: got x2 (150 readers); day 1: got 1000, lotr 70; day 2: empty 30; day 3: empty 5.
  ASSERT_EQ(days->size(), 5u);
  EXPECT_EQ((*days)[0].saga, "got");
  EXPECT_EQ((*days)[0].time, 0);
  EXPECT_EQ((*days)[0].events, 2);
  EXPECT_EQ((*days)[0].readers, 150);
  EXPECT_EQ((*days)[1].saga, "got");
  EXPECT_EQ((*days)[1].time, 86400);
  EXPECT_EQ((*days)[2].saga, "lotr");
  EXPECT_EQ((*days)[2].readers, 70);
  EXPECT_FALSE((*days)[3].saga.has_value());
  EXPECT_EQ((*days)[3].time, 86400 * 2);
  EXPECT_EQ((*days)[4].readers, 5);
  auto hours = a->SagaTrend({0, 86400 + 60}, query::Bucket::kHour);
  ASSERT_EQ(hours->size(), 3u);  // hour 0, hour 1, hour 24 (both ends included)
  EXPECT_EQ((*hours)[1].time, 3600);
  EXPECT_EQ((*hours)[2].time, 86400);
  EXPECT_EQ((*hours)[2].readers, 1000);
  EXPECT_TRUE(a->SagaTrend({5, 4}, query::Bucket::kDay)->empty());
  EXPECT_TRUE(a->Ping().ok());
}

TEST_F(SqliteQueryTest, UnknownNamesAreNotFound) {
  auto a = OpenAnalytics();
  auto saga = a->TopEntities({"narnia", {}, 8, query::Measure::kMentions});
  EXPECT_EQ(saga.status().code(), Status::Code::kNotFound);
  EXPECT_NE(saga.status().message().find("got, hp, lotr"), std::string::npos) << saga.status().message();
  auto entity = a->Trend({"jon", std::nullopt, query::Bucket::kDay, {}});
  EXPECT_EQ(entity.status().code(), Status::Code::kNotFound);
  EXPECT_NE(entity.status().message().find("Jon"), std::string::npos) << entity.status().message();
  // Parameters are bound, never spliced: an injection attempt is just an unknown name.
  auto inject = a->TopEntities({"got' OR '1'='1", {}, 8, query::Measure::kMentions});
  EXPECT_EQ(inject.status().code(), Status::Code::kNotFound);
  auto inject2 = a->Trend({"x'); DROP TABLE fact_readers; --", std::nullopt, query::Bucket::kDay, {}});
  EXPECT_EQ(inject2.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(a->TopEntities({"got", {}, 8, query::Measure::kMentions})->size(), 3u);
}

TEST_F(SqliteStoreTest, AnalyticsOnMissingOrForeignFiles) {
  EXPECT_EQ(SqliteAnalytics::Open(path_ + ".missing").status().code(), Status::Code::kNotFound);
  {
    auto db = Db::Open(path_, Db::Mode::kReadWriteCreate);
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t(x)").ok());
  }
  EXPECT_EQ(SqliteAnalytics::Open(path_).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sagaflow::sinks::sqlite
