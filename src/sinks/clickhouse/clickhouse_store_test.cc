// ClickHouseSink and ClickHouseAnalytics against a real clickhouse-server
// (the ctest fixture's): migrations, dimensions, checkpoints, duplicates
// (re-sent batches and raw copies that bypass every guard), hostile strings,
// injection attempts, error classification, and the same answers as the
// SQLite store for the same batches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "pipeline/batch_testing.h"
#include "sinks/clickhouse/clickhouse_analytics.h"
#include "sinks/clickhouse/clickhouse_sink.h"
#include "sinks/clickhouse/clickhouse_testing.h"
#include "sinks/clickhouse/sql.h"
#include "sinks/sqlite/sqlite_analytics.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "sinks/store_testing.h"

namespace sagaflow::sinks::clickhouse {
namespace {

namespace fs = std::filesystem;
using pipeline::Batch;
using pipeline::Dimensions;
using pipeline::EntityDim;
using pipeline::testing::AddEvent;

void Checkpoint(Batch* b, uint64_t position, std::string key = "file:test") {
  pipeline::testing::SetCheckpoint(b, position, std::move(key));
}

using sinks::testing::kHostile;
using sinks::testing::RandomHistory;

class ClickHouseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    address_ = testing::TestServerAddress();
    if (address_.empty()) {
      if (::sagaflow::testing::InCi()) FAIL() << "no ClickHouse test server under CI=true";
      GTEST_SKIP() << "no ClickHouse test server (run through ctest)";
    }
    database_ = testing::UniqueDatabase();
    uri_ = "clickhouse://" + address_ + "/" + database_ + "?retry_initial_ms=10&retry_max_ms=200";
    auto c = ParseClickHouseUri(uri_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = *c;
    auto client = ClickHouseClient::Create(config_);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    Sql("DROP DATABASE IF EXISTS " + database_, false);
    std::vector<EntityDim> entities = {{0, "Jon", "got", 0, "character"},    {0, "Frodo", "lotr", 0, "character"},
                                       {0, "Winterfell", "got", 0, "place"}, {0, "Tom", "", 0, "other"},
                                       {0, "Tom", "hp", 0, "character"},     {0, "Éowyn", "lotr", 0, "character"},
                                       {0, "Harry", "hp", 0, "character"}};
    auto d = Dimensions::Build({"got", "lotr", "hp"}, entities);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dims_ = *d;
  }
  void TearDown() override {
    if (client_ && !HasFailure()) Sql("DROP DATABASE IF EXISTS " + database_, false);
  }

  // Runs `sql` on the test database; returns its TabSeparated rows.
  std::vector<std::vector<std::string>> Sql(const std::string& sql, bool use_database = true, size_t columns = 0) {
    auto r = client_->Query(columns ? sql + " FORMAT TabSeparated" : sql, use_database);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok() || !columns) return {};
    auto rows = ParseTsv(*r, columns);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<std::vector<std::string>>{};
  }
  int64_t Count(const std::string& sql) { return std::stoll(Sql(sql, true, 1).at(0).at(0)); }

  std::unique_ptr<ClickHouseSink> OpenSink(const std::string& uri = "") {
    auto c = ParseClickHouseUri(uri.empty() ? uri_ : uri);
    EXPECT_TRUE(c.ok());
    auto s = ClickHouseSink::Open(*c);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    Status st = (*s)->Prepare(dims_);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(*s);
  }
  std::unique_ptr<ClickHouseAnalytics> OpenAnalytics() {
    auto a = ClickHouseAnalytics::Open(config_);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return std::move(*a);
  }

  std::string address_, database_, uri_;
  ClickHouseConfig config_;
  std::unique_ptr<ClickHouseClient> client_;
  Dimensions dims_;
};

TEST_F(ClickHouseStoreTest, CreatesTheDatabaseAndMigratesOnce) {
  { auto sink = OpenSink(); }
  { auto sink = OpenSink(); }  // second start: nothing dropped, nothing re-applied
  EXPECT_EQ(Count("SELECT count() FROM schema_version"), static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(Count("SELECT max(version) FROM schema_version"), LatestSchemaVersion());
  for (const char* table : {"dim_saga", "dim_entity", "source", "fact_event", "fact_readers", "dead_letter"}) {
    EXPECT_EQ(
        Count("SELECT count() FROM system.tables WHERE database = '" + database_ + "' AND name = '" + table + "'"), 1)
        << table;
  }
  auto version = SchemaVersion(*client_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, LatestSchemaVersion());
}

// Least privilege: the analytics' requests carry readonly=1, so the server
// itself refuses a write or DDL sent through them, even with the writer's
// login (admin "default" here); the same statements pass without it. The
// read-only role of docs/clickhouse.md (the test server's sagaflow_reader, a
// readonly=1 profile) answers every analytics query.
TEST_F(ClickHouseStoreTest, TheAnalyticsClientCannotWrite) {
  { auto sink = OpenSink(); }
  auto analytics = OpenAnalytics();
  ASSERT_TRUE(analytics);
  EXPECT_TRUE(analytics->config().read_only);
  auto reader = ClickHouseClient::Create(analytics->config());
  ASSERT_TRUE(reader.ok());
  for (const char* sql :
       {"INSERT INTO dim_saga (saga_id, name) VALUES (1, 'x')", "CREATE TABLE intruder (x UInt8) ENGINE = Memory",
        "DROP TABLE fact_event", "ALTER TABLE dead_letter DELETE WHERE 1", "TRUNCATE TABLE source"}) {
    auto r = (*reader)->Query(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << sql;
    EXPECT_EQ((*reader)->last_error_code(), 164) << sql << ": " << r.status().ToString();  // READONLY
    EXPECT_NE(r.status().message().find("readonly"), std::string::npos) << r.status().ToString();
  }
  Status insert = (*reader)->Insert("INSERT INTO dim_saga (saga_id, name) FORMAT TabSeparated", "1\tx\n");
  EXPECT_EQ((*reader)->last_error_code(), 164) << insert.ToString();
  EXPECT_EQ(Count("SELECT count() FROM system.tables WHERE database = '" + database_ + "' AND name = 'intruder'"), 0);
  EXPECT_EQ(Count("SELECT count() FROM dim_saga WHERE name = 'x'"), 0);
  EXPECT_EQ(Count("SELECT count() FROM system.tables WHERE database = '" + database_ + "' AND name = 'fact_event'"), 1);
  // The same login without the guard can write: the refusal is readonly=1's.
  Sql("CREATE TABLE intruder (x UInt8) ENGINE = Memory");
  Sql("DROP TABLE intruder");

  ClickHouseConfig role = config_;
  role.user = "sagaflow_reader";
  role.password = "sagaflow-reader-pw";
  auto as_reader = ClickHouseAnalytics::Open(role);
  ASSERT_TRUE(as_reader.ok()) << as_reader.status().ToString();
  auto sagas = (*as_reader)->Sagas({});
  EXPECT_TRUE(sagas.ok()) << sagas.status().ToString();
  EXPECT_TRUE((*as_reader)->Ping().ok());
}

// The run role (18.16: a profile with allow_ddl=0) starts and writes into a
// store that `migrate` brought up to date: its start sends no DDL. It cannot
// change the schema.
TEST_F(ClickHouseStoreTest, TheRunRoleNeedsNoDdlOnAMigratedStore) {
  const std::string writer_uri = "clickhouse://sagaflow_writer:sagaflow-writer-pw@" + address_ + "/" + database_;
  {
    auto c = ParseClickHouseUri(writer_uri);
    ASSERT_TRUE(c.ok());
    auto early = ClickHouseSink::Open(*c);
    ASSERT_TRUE(early.ok());
    Status st = (*early)->Prepare(dims_);  // not migrated yet: it would need DDL
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("DDL"), std::string::npos) << st.ToString();
  }
  { auto migrate = OpenSink(); }  // the migrate role
  auto sink = OpenSink(writer_uri);
  Batch b;
  AddEvent(&b, 0, 50, 0, 100, 10, {{0, 2}});
  Checkpoint(&b, 1);
  auto r = sink->Write(b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Count("SELECT count() FROM fact_event"), 1);
  auto c = ParseClickHouseUri(writer_uri);
  auto writer = ClickHouseClient::Create(*c);
  ASSERT_TRUE(writer.ok());
  EXPECT_FALSE((*writer)->Query("CREATE TABLE intruder (x UInt8) ENGINE = Memory").ok());
}

TEST_F(ClickHouseStoreTest, RefusesANewerSchemaAndForeignDatabases) {
  EXPECT_EQ(ClickHouseAnalytics::Open(config_).status().code(), Status::Code::kNotFound);
  Sql("CREATE DATABASE " + database_, false);
  EXPECT_EQ(ClickHouseAnalytics::Open(config_).status().code(), Status::Code::kInvalidArgument);
  { auto sink = OpenSink(); }
  Sql("INSERT INTO schema_version VALUES (999, 'future', 0)");
  auto sink = ClickHouseSink::Open(config_);
  ASSERT_TRUE(sink.ok());
  Status st = (*sink)->Prepare(dims_);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_EQ(ClickHouseAnalytics::Open(config_).status().code(), Status::Code::kUnsupported);
}

TEST_F(ClickHouseStoreTest, DimensionsHaveStableIdsAndTypeOneKinds) {
  { auto sink = OpenSink(); }
  auto rows = Sql("SELECT saga_id FROM dim_saga WHERE name = 'got'", true, 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::to_string(pipeline::SagaId("got")));
  rows = Sql("SELECT entity_id, saga_id, kind FROM dim_entity WHERE name = 'Tom' ORDER BY saga_id", true, 3);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], std::to_string(pipeline::EntityId("", "Tom")));
  EXPECT_EQ(rows[0][1], "0");  // unscoped
  EXPECT_EQ(rows[0][2], "other");
  // A corrected kind is a new version; the newest wins.
  dims_.entities[3].kind = "person";
  { auto sink = OpenSink(); }
  rows = Sql(
      "SELECT argMax(kind, version) FROM dim_entity WHERE entity_id = " + std::to_string(pipeline::EntityId("", "Tom")),
      true, 1);
  EXPECT_EQ(rows[0][0], "person");
  // An id held by another name is corruption, never overwritten.
  Sql("INSERT INTO dim_saga VALUES (" + std::to_string(pipeline::SagaId("lotr")) + ", 'impostor')");
  auto sink = ClickHouseSink::Open(config_);
  EXPECT_EQ((*sink)->Prepare(dims_).code(), Status::Code::kCorruption);
}

TEST_F(ClickHouseStoreTest, CheckpointsAreStoredAfterTheRowsAndOnlyMoveForward) {
  auto sink = OpenSink();
  EXPECT_FALSE((*sink->LoadCheckpoint("file:test")).has_value());
  Batch b;
  AddEvent(&b, 0, 50, 0, 100, 10, {{0, 2}});
  Checkpoint(&b, 50);
  auto r = sink->Write(b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->events, 1u);
  EXPECT_EQ(r->mentions, 1u);
  auto cp = sink->LoadCheckpoint("file:test");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->position, 50u);
  EXPECT_EQ((*cp)->line, 51u);
  EXPECT_EQ((*cp)->digest, 1234u);
  Batch earlier;
  AddEvent(&earlier, 0, 10, 0, 1, 1);
  Checkpoint(&earlier, 10);
  ASSERT_TRUE(sink->Write(earlier).ok());
  EXPECT_EQ((*sink->LoadCheckpoint("file:test"))->position, 50u);
  // Another process sees it too; first_seen_at is kept across writes.
  auto other = OpenSink();
  EXPECT_EQ((*other->LoadCheckpoint("file:test"))->position, 50u);
  EXPECT_EQ(Count("SELECT uniqExact(first_seen_at) FROM source"), 1);
}

TEST_F(ClickHouseStoreTest, RedeliveredRecordsNeverChangeResults) {
  auto sink = OpenSink();
  Batch b;
  AddEvent(&b, 0, 0, 0, 100, 10, {{0, 2}, {2, 1}});
  AddEvent(&b, 0, 1, 1, 200, 20, {{1, 1}});
  AddEvent(&b, 0, 2, -1, 7, 30);
  b.dead_letters.push_back({0, 3, 4, events::RejectReason::kInvalidJson, "bad", "{", 1});
  Checkpoint(&b, 3);
  ASSERT_TRUE(sink->Write(b).ok());
  auto a = OpenAnalytics();
  auto top = a->TopEntities({"got", {}, 0, query::Measure::kMentions});
  auto sagas = a->Sagas({});
  auto rejected = a->Rejected();
  ASSERT_TRUE(top.ok() && sagas.ok() && rejected.ok());

  // 1. The same batch again (a restart before its checkpoint): all duplicates.
  auto again = sink->Write(b);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->events, 0u);
  EXPECT_EQ(again->mentions, 0u);
  EXPECT_EQ(again->dead_letters, 0u);
  EXPECT_EQ(again->duplicates, 4u);
  // 2. Copies that slipped past the check (an insert that timed out but
  //    landed, two consumers racing): every row stored twice more.
  for (const char* t : {"fact_event", "fact_readers", "dead_letter", "source", "dim_saga", "dim_entity"}) {
    Sql(std::string("INSERT INTO ") + t + " SELECT * FROM " + t);
    Sql(std::string("INSERT INTO ") + t + " SELECT * FROM " + t);
  }
  EXPECT_EQ(Count("SELECT count() FROM fact_event"), 12);
  auto check = [&] {
    auto a2 = OpenAnalytics();
    auto top2 = a2->TopEntities({"got", {}, 0, query::Measure::kMentions});
    ASSERT_TRUE(top2.ok()) << top2.status().ToString();
    ASSERT_EQ(top2->size(), top->size());
    for (size_t i = 0; i < top->size(); ++i) {
      EXPECT_EQ((*top2)[i].entity, (*top)[i].entity);
      EXPECT_EQ((*top2)[i].mentions, (*top)[i].mentions);
      EXPECT_EQ((*top2)[i].readers, (*top)[i].readers);
    }
    auto sagas2 = a2->Sagas({});
    ASSERT_EQ(sagas2->size(), sagas->size());
    for (size_t i = 0; i < sagas->size(); ++i) {
      EXPECT_EQ((*sagas2)[i].saga, (*sagas)[i].saga);
      EXPECT_EQ((*sagas2)[i].events, (*sagas)[i].events);
      EXPECT_EQ((*sagas2)[i].readers, (*sagas)[i].readers);
    }
    EXPECT_EQ((*a2->Rejected())[0].events, 1);
    EXPECT_EQ(a2->DeadLetters(0)->size(), 1u);
    auto trend = a2->Trend({"Jon", std::nullopt, query::Bucket::kDay, {}});
    ASSERT_EQ(trend->size(), 1u);
    EXPECT_EQ((*trend)[0].mentions, 2);
    EXPECT_EQ((*trend)[0].readers, 100);
  };
  check();
  EXPECT_EQ((*top)[0].entity, "Jon");
  EXPECT_EQ((*top)[0].mentions, 2);
  // 3. After merges the copies are gone for good; results still the same.
  for (const char* t : {"fact_event", "fact_readers", "dead_letter"})
    Sql(std::string("OPTIMIZE TABLE ") + t + " FINAL");
  EXPECT_EQ(Count("SELECT count() FROM fact_event"), 3);
  check();
}

TEST_F(ClickHouseStoreTest, OverlappingBatchesStoreEachRecordOnce) {
  auto sink = OpenSink();
  Batch first, second;
  for (uint64_t p = 0; p < 10; ++p) AddEvent(&first, 0, p, 0, 10, 100, {{0, 1}});
  Checkpoint(&first, 9);
  for (uint64_t p = 5; p < 15; ++p) AddEvent(&second, 0, p, 0, 10, 100, {{0, 1}});
  Checkpoint(&second, 14);
  ASSERT_TRUE(sink->Write(first).ok());
  auto r = sink->Write(second);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events, 5u);
  EXPECT_EQ(r->duplicates, 5u);
  EXPECT_EQ(Count("SELECT count() FROM fact_event"), 15);
  EXPECT_EQ(Count("SELECT count() FROM fact_readers"), 15);
  EXPECT_EQ((*OpenAnalytics()->TopEntities({"got", {}, 8, query::Measure::kMentions}))[0].mentions, 15);
}

TEST_F(ClickHouseStoreTest, ARestartFindsEveryRecordStoredPastItsCheckpoint) {
  auto range = [&](uint64_t from, uint64_t to) {  // events [from, to), checkpoint at to - 1
    Batch b;
    for (uint64_t p = from; p < to; ++p) AddEvent(&b, 0, p, 0, 10, 100, {{0, 1}});
    Checkpoint(&b, to - 1);
    return b;
  };
  {
    auto first = OpenSink();
    ASSERT_TRUE(first->Write(range(0, 50)).ok());
    ASSERT_TRUE(first->Write(range(50, 100)).ok());
  }
  // A new process re-sent records 0..99 (say its checkpoint was lost) in
  // batches of other sizes, then new ones.
  auto second = OpenSink();
  const std::vector<std::pair<uint64_t, uint64_t>> batches = {{0, 30}, {30, 60}, {60, 100}, {100, 120}, {120, 130}};
  const uint64_t expected_duplicates[] = {30, 30, 40, 0, 0};
  for (size_t i = 0; i < batches.size(); ++i) {
    const uint64_t requests = second->requests();
    auto r = second->Write(range(batches[i].first, batches[i].second));
    // Once a check found nothing stored, later batches skip it: three
    // inserts (mentions, events, checkpoint), the rollups' read-back of
    // their stored prefixes and their insert, and no check.
    if (i == 4) {
      EXPECT_EQ(second->requests() - requests, 3u + 1u + 1u);
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->duplicates, expected_duplicates[i]) << "batch " << i;
    EXPECT_EQ(r->events, batches[i].second - batches[i].first - expected_duplicates[i]) << "batch " << i;
  }
  EXPECT_EQ(Count("SELECT count() FROM fact_event"), 130);
  // Going back re-checks.
  auto back = second->Write(range(125, 128));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->duplicates, 3u);
  EXPECT_EQ(Count("SELECT count() FROM fact_readers"), 130);
}

TEST_F(ClickHouseStoreTest, HostileStringsRoundTripExactly) {
  auto sink = OpenSink();
  Batch b;
  for (size_t i = 0; i < kHostile.size(); ++i) {
    AddEvent(&b, 0, i, 0, 1, 1, {}, kHostile[i]);
    b.dead_letters.push_back(
        {0, 100 + i, i, events::RejectReason::kInvalidJson, kHostile[i], kHostile[(i + 1) % kHostile.size()], i});
  }
  const std::string key = "file:" + kHostile[3] + kHostile[1];
  Checkpoint(&b, 200, key);
  auto r = sink->Write(b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->dead_letters, kHostile.size());
  auto rows = Sql("SELECT article_id FROM fact_event ORDER BY position", true, 1);
  ASSERT_EQ(rows.size(), kHostile.size());
  for (size_t i = 0; i < kHostile.size(); ++i) EXPECT_EQ(rows[i][0], kHostile[i]);
  auto letters = OpenAnalytics()->DeadLetters(0);
  ASSERT_TRUE(letters.ok()) << letters.status().ToString();
  ASSERT_EQ(letters->size(), kHostile.size());
  for (const auto& d : *letters) {
    size_t i = static_cast<size_t>(d.position) - 100;
    EXPECT_EQ(d.detail, kHostile[i]);
    EXPECT_EQ(d.excerpt, kHostile[(i + 1) % kHostile.size()]);
    EXPECT_EQ(d.source, key);
  }
  EXPECT_EQ((*sink->LoadCheckpoint(key))->position, 200u);
  // And as literals: what QuoteString sends is what the server reads.
  for (const auto& s : kHostile) {
    auto got = Sql("SELECT " + QuoteString(s), true, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0][0], s);
  }
}

TEST_F(ClickHouseStoreTest, InjectionAttemptsAreJustUnknownNames) {
  auto sink = OpenSink();
  Batch b;
  AddEvent(&b, 0, 0, 0, 100, 10, {{0, 2}});
  Checkpoint(&b, 0);
  ASSERT_TRUE(sink->Write(b).ok());
  auto a = OpenAnalytics();
  for (const auto& s : kHostile) {
    auto top = a->TopEntities({s, {}, 8, query::Measure::kMentions});
    EXPECT_EQ(top.status().code(), Status::Code::kNotFound) << s;
    EXPECT_NE(top.status().message().find("unknown saga \"" + s + "\""), std::string::npos) << top.status().message();
    auto trend = a->Trend({s, std::nullopt, query::Bucket::kDay, {}});
    EXPECT_EQ(trend.status().code(), Status::Code::kNotFound) << s;
    auto trend_saga = a->Trend({"Jon", s, query::Bucket::kDay, {}});
    EXPECT_EQ(trend_saga.status().code(), Status::Code::kNotFound) << s;
  }
  EXPECT_EQ(Count("SELECT count() FROM fact_event"), 1);
  EXPECT_EQ((*a->TopEntities({"got", {}, 8, query::Measure::kMentions}))[0].mentions, 2);
}

TEST_F(ClickHouseStoreTest, ARefusedBatchFailsBeforeItsCheckpoint) {
  auto sink = OpenSink();
  Batch good;  // a dead letter only: fact_event stays empty (for the ALTER below)
  good.dead_letters.push_back({0, 0, 1, events::RejectReason::kInvalidJson, "bad", "{", 1});
  ++good.records;
  Checkpoint(&good, 0);
  ASSERT_TRUE(sink->Write(good).ok());
  // The operator changed a column: the server now refuses our rows (a
  // non-retriable parse error), whatever the HTTP status says.
  Sql("ALTER TABLE fact_event MODIFY COLUMN article_id UInt64");
  Batch bad;
  AddEvent(&bad, 0, 10, 0, 100, 10, {{0, 1}});
  Checkpoint(&bad, 10);
  auto start = std::chrono::steady_clock::now();
  auto r = sink->Write(bad);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not retriable"), std::string::npos) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));  // no retry loop
  EXPECT_EQ(sink->retry_stats().retries.load(), 0u);
  EXPECT_EQ((*sink->LoadCheckpoint("file:test"))->position, 0u);  // not advanced past the refused rows
}

// The rollups go in beside the facts: refused, they fail the batch before
// its checkpoint though the facts landed, and the batch sent again counts
// each record once (prefix rows: rollups.h).
TEST_F(ClickHouseStoreTest, ARefusedRollupInsertFailsTheBatchAndItsResendCountsOnce) {
  auto sink = OpenSink();
  Batch b;
  for (uint64_t p = 0; p < 20; ++p) AddEvent(&b, 0, p, 0, 10, 100, {{0, 1}});
  Checkpoint(&b, 19);
  // The table read back no longer takes our rows.
  Sql("ALTER TABLE rollup_days MODIFY COLUMN readers Date");
  auto r = sink->Write(b);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  EXPECT_FALSE((*sink->LoadCheckpoint("file:test")).has_value());
  EXPECT_GT(Count("SELECT count() FROM fact_readers"), 0);  // beside it
  Sql("ALTER TABLE rollup_days MODIFY COLUMN readers UInt64");
  ASSERT_TRUE(sink->Write(b).ok());
  auto a = OpenAnalytics();
  // Whole range (days), the hour (hours), part of it (facts).
  for (query::TimeRange w : {query::TimeRange{}, query::TimeRange{0, 3599}, query::TimeRange{50, 150}}) {
    auto sagas = a->Sagas(w);
    ASSERT_TRUE(sagas.ok()) << sagas.status().ToString();
    EXPECT_EQ((*sagas)[0].events, 20);
    auto top = a->TopEntities({"got", w, 8, query::Measure::kMentions});
    ASSERT_TRUE(top.ok() && !top->empty());
    EXPECT_EQ((*top)[0].mentions, 20);
  }
}

TEST_F(ClickHouseStoreTest, UnknownTableIsNotRetriable) {
  auto sink = OpenSink();
  Sql("RENAME TABLE fact_event TO fact_event_moved");
  Batch b;
  AddEvent(&b, 0, 0, 0, 100, 10);
  Checkpoint(&b, 0);
  auto r = sink->Write(b);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("error 60"), std::string::npos) << r.status().message();
  EXPECT_FALSE((*sink->LoadCheckpoint("file:test")).has_value());
  Sql("RENAME TABLE fact_event_moved TO fact_event");
  EXPECT_TRUE(sink->Write(b).ok());
}

TEST_F(ClickHouseStoreTest, PasswordsFromTheUriOrCredentials) {
  const std::string base = "clickhouse://sagaflow_test:sagaflow-test-pw@" + address_ + "/" + database_;
  { auto sink = OpenSink(base); }
  auto c = ParseClickHouseUri("clickhouse://" + address_ + "/" + database_,
                              Credentials{"sagaflow_test", "sagaflow-test-pw"});
  EXPECT_TRUE(ClickHouseAnalytics::Open(*c).ok());
  auto wrong = ParseClickHouseUri("clickhouse://sagaflow_test:wrong@" + address_ + "/" + database_);
  auto sink = ClickHouseSink::Open(*wrong);
  Status st = (*sink)->Prepare(dims_);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();  // not retried
  EXPECT_EQ(st.message().find("wrong@"), std::string::npos);
}

TEST_F(ClickHouseStoreTest, DetectsServerFeaturesFromSystemTables) {
  auto sink = OpenSink();
  const bool has_token = Count("SELECT count() FROM system.settings WHERE name = 'insert_deduplication_token'") > 0;
  EXPECT_EQ(sink->features().insert_deduplication_token, has_token);
}

// ---- The same answers as SQLite -------------------------------------------

template <typename Row, typename Key>
void ExpectSame(const Result<std::vector<Row>>& sqlite, const Result<std::vector<Row>>& ch, Key key,
                const std::string& what) {
  ASSERT_EQ(sqlite.ok(), ch.ok()) << what << ": " << sqlite.status().ToString() << " vs " << ch.status().ToString();
  if (!sqlite.ok()) {
    EXPECT_EQ(sqlite.status().code(), ch.status().code()) << what;
    EXPECT_EQ(sqlite.status().message(), ch.status().message()) << what;
    return;
  }
  ASSERT_EQ(sqlite->size(), ch->size()) << what;
  for (size_t i = 0; i < sqlite->size(); ++i) EXPECT_EQ(key((*sqlite)[i]), key((*ch)[i])) << what << " row " << i;
}

TEST_F(ClickHouseStoreTest, AnswersEveryQueryLikeTheSqliteStore) {
  const std::string path =
      (fs::temp_directory_path() / ("sagaflow-ch-diff-" + std::to_string(::getpid()) + ".db")).string();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  {
    auto lite = sqlite::SqliteSink::Open(path);
    ASSERT_TRUE(lite.ok());
    ASSERT_TRUE((*lite)->Prepare(dims_).ok());
    auto ch = OpenSink();
    for (const Batch& b : RandomHistory(7)) {
      auto r1 = (*lite)->Write(b);
      auto r2 = ch->Write(b);
      ASSERT_TRUE(r1.ok() && r2.ok()) << r1.status().ToString() << r2.status().ToString();
      EXPECT_EQ(r1->events, r2->events);
      EXPECT_EQ(r1->mentions, r2->mentions);
      EXPECT_EQ(r1->dead_letters, r2->dead_letters);
      EXPECT_EQ(r1->duplicates, r2->duplicates);
    }
  }
  // Copies that bypassed the duplicate check must not matter either.
  for (const char* t : {"fact_event", "fact_readers", "dead_letter"}) {
    Sql(std::string("INSERT INTO ") + t + " SELECT * FROM " + t + " WHERE position % 3 = 0");
  }
  auto lite = sqlite::SqliteAnalytics::Open(path);
  ASSERT_TRUE(lite.ok());
  auto ch = OpenAnalytics();
  auto top_key = [](const query::TopEntityRow& r) { return std::make_tuple(r.entity, r.mentions, r.readers); };
  auto saga_key = [](const query::SagaRow& r) { return std::make_tuple(r.saga, r.events, r.readers); };
  auto trend_key = [](const query::TrendRow& r) { return std::make_tuple(r.time, r.mentions, r.readers); };
  const std::vector<query::TimeRange> windows = {{},
                                                 {0, 0},
                                                 {3600, 86400},
                                                 {3601, 86399},
                                                 {86400, std::nullopt},
                                                 {std::nullopt, 90000},
                                                 {4294967295, std::nullopt},
                                                 {-100, 5},
                                                 {5000000000, std::nullopt},
                                                 {std::nullopt, -1},
                                                 {90000, 3600}};
  int compared = 0;
  for (const std::string saga : {"got", "lotr", "hp", "narnia", "x' OR '1'='1"}) {
    for (const auto& w : windows) {
      for (auto by : {query::Measure::kMentions, query::Measure::kReaders}) {
        for (int64_t limit : {0, 1, 3, 8}) {
          query::TopEntitiesQuery q{saga, w, limit, by};
          ExpectSame((*lite)->TopEntities(q), ch->TopEntities(q), top_key, "top-entities " + saga);
          ++compared;
        }
      }
    }
  }
  for (const auto& w : windows) ExpectSame((*lite)->Sagas(w), ch->Sagas(w), saga_key, "sagas");
  auto saga_trend_key = [](const query::SagaTrendRow& r) {
    return std::make_tuple(r.saga, r.time, r.events, r.readers);
  };
  for (const auto& w : windows) {
    for (auto bucket : {query::Bucket::kHour, query::Bucket::kDay}) {
      ExpectSame((*lite)->SagaTrend(w, bucket), ch->SagaTrend(w, bucket), saga_trend_key, "saga trend");
    }
  }
  EXPECT_TRUE(ch->Ping().ok());
  ExpectSame((*lite)->Rejected(), ch->Rejected(),
             [](const query::RejectedRow& r) { return std::make_tuple(r.reason, r.events); }, "rejected");
  for (const std::string entity : {"Jon", "Tom", "Éowyn", "Harry", "Frodo", "Winterfell", "tom", "TOM", "o", "%", "_",
                                   "\\", "éowyn", "x' OR '1'='1", "Nobody"}) {
    for (const std::optional<std::string>& saga :
         {std::optional<std::string>(), std::optional<std::string>("got"), std::optional<std::string>("hp"),
          std::optional<std::string>("narnia")}) {
      for (auto bucket : {query::Bucket::kHour, query::Bucket::kDay}) {
        for (const auto& w : {windows[0], windows[2], windows[4]}) {
          query::TrendQuery q{entity, saga, bucket, w};
          ExpectSame((*lite)->Trend(q), ch->Trend(q), trend_key, "trend " + entity);
          ++compared;
        }
      }
    }
  }
  // Dead letters: the same set (their order among equal insert times may differ).
  auto d1 = (*lite)->DeadLetters(0), d2 = ch->DeadLetters(0);
  ASSERT_TRUE(d1.ok() && d2.ok());
  auto key = [](const query::DeadLetter& d) {
    return std::make_tuple(d.source, d.position, d.line, d.reason, d.detail, d.excerpt);
  };
  std::vector<decltype(key(d1->front()))> k1, k2;
  for (const auto& d : *d1) k1.push_back(key(d));
  for (const auto& d : *d2) k2.push_back(key(d));
  std::sort(k1.begin(), k1.end());
  std::sort(k2.begin(), k2.end());
  EXPECT_EQ(k1, k2);
  EXPECT_GT(compared, 500);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
}

}  // namespace
}  // namespace sagaflow::sinks::clickhouse
