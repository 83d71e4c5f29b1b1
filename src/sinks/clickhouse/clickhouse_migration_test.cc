// Migrations 3 and 4 against the fixture's real server (rebuild.h,
// rollups.h): a version-2 store (fact_readers at its old sorting key, the
// hour rollups of version 2) upgraded in place keeps every fact row, once,
// and every answer, from day rollups built from the facts; a migration
// interrupted anywhere (mid-copy, between the two renames, mid-backfill) is
// completed by the next start, again without losing or doubling a row.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "sinks/clickhouse/clickhouse_analytics.h"
#include "sinks/clickhouse/clickhouse_sink.h"
#include "sinks/clickhouse/clickhouse_testing.h"
#include "sinks/clickhouse/migrations.h"
#include "sinks/clickhouse/rollups.h"
#include "sinks/clickhouse/sql.h"
#include "sinks/store_testing.h"
#include "support/child_process.h"
#include "support/scratch_dir.h"

namespace sagaflow::sinks::clickhouse {
namespace {

using pipeline::Batch;

class ClickHouseMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SAGAFLOW_REQUIRE_CLICKHOUSE(address);
    database_ = testing::UniqueDatabase();
    auto c = ParseClickHouseUri("clickhouse://" + address + "/" + database_ + "?retry_initial_ms=10&retry_max_ms=200");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = *c;
    auto client = ClickHouseClient::Create(config_);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    ASSERT_TRUE(client_->Query("DROP DATABASE IF EXISTS " + database_, false).ok());
    dims_ = sinks::testing::TestDimensions();
  }
  void TearDown() override {
    if (client_ && !HasFailure()) (void)client_->Query("DROP DATABASE IF EXISTS " + database_, false);
  }

  int64_t Count(const std::string& sql) {
    auto r = client_->Query(sql + " FORMAT TabSeparated");
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    auto n = r.ok() ? ParseInt(std::string_view(*r).substr(0, r->find('\n')), "a count") : Result<int64_t>(-1);
    return n.ok() ? *n : -1;
  }
  void Sql(const std::string& sql) {
    auto r = client_->Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }

  // Writes `batches` through a sink (which migrates first).
  void Write(const std::vector<Batch>& batches, sinks::testing::ReferenceAnalytics* reference) {
    auto sink = ClickHouseSink::Open(config_);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    Status st = (*sink)->Prepare(dims_);
    ASSERT_TRUE(st.ok()) << st.ToString();
    for (const Batch& b : batches) {
      auto r = (*sink)->Write(b);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      reference->Write(b);
    }
  }
  Status Migrate() {
    Retrier retrier(config_.retry, "migrate");
    return clickhouse::Migrate(*client_, retrier);
  }

  // Takes the store back to version 2: the rebuilt tables at their old
  // sorting keys (rebuilt the same way), the rollup tables of version 2 in
  // place of today's (stand-ins: migration 4 only drops them), versions 3
  // and 4 forgotten. Merges stop first (each table's copies merged away), so
  // that every row count below is exact: a row copied twice would show.
  void DowngradeToVersion2() {
    for (const TableSpec& t : RollupSchema()) Sql(std::string("DROP TABLE IF EXISTS ") + t.name);
    for (const char* t : RetiredRollupTables())
      Sql(fmt::format("CREATE TABLE IF NOT EXISTS {} (bucket UInt32) ENGINE = MergeTree ORDER BY bucket", t));
    for (const Rebuild& r : SortingKeyRebuilds()) Sql(fmt::format("OPTIMIZE TABLE {} FINAL", r.table.name));
    Retrier retrier(config_.retry, "downgrade");
    for (const Rebuild& r : Version2Layouts()) {
      Status st = RebuildTable(*client_, retrier, r, 2);
      ASSERT_TRUE(st.ok()) << st.ToString();
      auto key = SortingKey(*client_, r.table.name);
      ASSERT_TRUE(key.ok());
      EXPECT_EQ("(" + *key + ")", r.table.order_by);
    }
    Sql("DROP TABLE schema_version");
    Sql("CREATE TABLE schema_version (version UInt32, description String, applied_at Int64) ENGINE = MergeTree "
        "ORDER BY version");
    Sql("INSERT INTO schema_version VALUES (1, 'star schema', 0), (2, 'rollups', 0)");
    for (const Rebuild& r : SortingKeyRebuilds()) {
      rows_[r.table.name] = Count(fmt::format("SELECT count() FROM {}", r.table.name));
      EXPECT_GT(rows_[r.table.name], 100) << r.table.name;
      Sql(fmt::format("SYSTEM STOP MERGES {}", r.table.name));
    }
    auto analytics = ClickHouseAnalytics::Open(config_);
    ASSERT_FALSE(analytics.ok());  // version 2: "run sagaflow migrate"
    EXPECT_EQ(analytics.status().code(), Status::Code::kUnsupported);
  }

  // Which rows ExpectMigrated counts: every row (a migration alone copies
  // each once), or each row's identity (after two processes copied at once,
  // identical copies the queries collapse).
  enum class Rows { kAll, kDistinct };

  // Version 4, every row, nothing left over.
  void ExpectMigrated(Rows rows = Rows::kAll) {
    auto version = SchemaVersion(*client_);
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, 4);
    for (const Rebuild& r : SortingKeyRebuilds()) {
      auto key = SortingKey(*client_, r.table.name);
      ASSERT_TRUE(key.ok());
      EXPECT_EQ("(" + *key + ")", r.table.order_by);
      const std::string counted = rows == Rows::kAll ? "count()" : fmt::format("uniqExact({})", r.row_key);
      EXPECT_EQ(Count(fmt::format("SELECT {} FROM {}", counted, r.table.name)), rows_[r.table.name]) << r.table.name;
      Sql(fmt::format("SYSTEM START MERGES {}", r.table.name));
    }
    EXPECT_EQ(Count(fmt::format("SELECT count() FROM system.tables WHERE database = '{}' AND match(name, '_v[0-9]+$')",
                                database_)),
              0);
    for (const TableSpec& t : RollupSchema()) {
      auto key = SortingKey(*client_, t.name);
      ASSERT_TRUE(key.ok());
      EXPECT_EQ("(" + *key + ")", t.order_by);
    }
    for (const char* t : RetiredRollupTables()) {
      auto exists = TableExists(*client_, t);
      ASSERT_TRUE(exists.ok());
      EXPECT_FALSE(*exists) << t;
    }
  }

  ::sagaflow::testing::ScratchDir scratch_;
  std::string database_;
  ClickHouseConfig config_;
  std::unique_ptr<ClickHouseClient> client_;
  pipeline::Dimensions dims_;
  std::map<std::string, int64_t> rows_;
};

TEST_F(ClickHouseMigrationTest, AStoreCreatedNowHasTheNewKeysAndNothingToRebuild) {
  sinks::testing::ReferenceAnalytics reference(dims_);
  Write(sinks::testing::RandomHistory(20, 4, 3, 40), &reference);
  for (const Rebuild& r : SortingKeyRebuilds()) {
    auto key = SortingKey(*client_, r.table.name);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ("(" + *key + ")", r.table.order_by);
  }
  EXPECT_EQ(Count("SELECT max(version) FROM schema_version"), 4);
  EXPECT_GT(Count(std::string("SELECT count() FROM ") + kRollupTable), 0);
  auto store = ClickHouseAnalytics::Open(config_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_GT(sinks::testing::ExpectSameAnswers(**store, reference, 5, sinks::testing::Coverage::kTotals), 80);
}

// Every answer of a version-2 store is the same after the upgrade (the
// full conformance set, 2,000+ answers, against the in-memory reference),
// and the rebuilt tables go on growing with new batches.
TEST_F(ClickHouseMigrationTest, UpgradeFromVersion2KeepsEveryRowAndAnswer) {
  sinks::testing::ReferenceAnalytics reference(dims_);
  const auto history = sinks::testing::RandomHistory(21, 16, 5, 120);
  const std::vector<Batch> first(history.begin(), history.begin() + 12), rest(history.begin() + 12, history.end());
  Write(first, &reference);
  DowngradeToVersion2();
  Status st = Migrate();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectMigrated();
  st = Migrate();  // up to date: nothing happens
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto store = ClickHouseAnalytics::Open(config_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_GT(sinks::testing::ExpectSameAnswers(**store, reference, 1), 2000);
  Write(rest, &reference);
  EXPECT_GT(sinks::testing::ExpectSameAnswers(**store, reference, 2, sinks::testing::Coverage::kTotals), 80);
}

// Killed mid-copy (the new fact_readers holds part of one day's rows, the
// day rollups the first half of theirs), then killed between the two renames of
// the swap (only the new fact_readers is left, under the building name, and
// the old one under the retired name): each time the next start completes
// the migration.
TEST_F(ClickHouseMigrationTest, AnInterruptedMigrationIsCompletedWithoutLosingOrDoublingRows) {
  sinks::testing::ReferenceAnalytics reference(dims_);
  Write(sinks::testing::RandomHistory(22, 16, 5, 120), &reference);
  TableSpec building = SortingKeyRebuilds()[0].table;
  building.name = "fact_readers_v3";
  for (int cut = 0; cut < 2; ++cut) {
    DowngradeToVersion2();
    for (const std::string& sql : CreateTable(building, config_)) Sql(sql);
    if (cut == 0) {
      Sql("INSERT INTO fact_readers_v3 SELECT * FROM fact_readers WHERE intDiv(time, 86400) = (SELECT intDiv(time, "
          "86400) AS d FROM fact_readers GROUP BY d ORDER BY count() DESC LIMIT 1) ORDER BY position LIMIT " +
          std::to_string(rows_["fact_readers"] / 15));
      EXPECT_GT(Count("SELECT count() FROM fact_readers_v3"), 0);
      Sql("SYSTEM STOP MERGES fact_readers_v3");
      // The day rollups: created, the backfill of their first half written.
      for (const TableSpec& t : RollupSchema()) {
        for (const std::string& sql : CreateTable(t, config_)) Sql(sql);
      }
      const int64_t half = Count("SELECT intDiv(toUInt32(avg(time)), 86400) * 86400 FROM fact_event");
      Sql(RollupBackfill(0, half));
      EXPECT_GT(Count(std::string("SELECT count() FROM ") + kRollupTable), 0);
    } else {
      Sql("INSERT INTO fact_readers_v3 SELECT * FROM fact_readers");
      Sql("SYSTEM STOP MERGES fact_readers_v3");
      Sql("RENAME TABLE fact_readers TO fact_readers_v2");
    }
    Status st = Migrate();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ExpectMigrated();
    auto store = ClickHouseAnalytics::Open(config_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_GT(sinks::testing::ExpectSameAnswers(**store, reference, 3 + cut, sinks::testing::Coverage::kTotals), 80);
  }
}

// Every consumer migrates at start, so two processes may upgrade one
// version-2 store at once: both succeed, and the store ends at the new key
// with every row (a row both copied is an identical copy the queries
// collapse) and every answer.
TEST_F(ClickHouseMigrationTest, TwoProcessesUpgradingAtOnceBothSucceed) {
  sinks::testing::ReferenceAnalytics reference(dims_);
  Write(sinks::testing::RandomHistory(23, 16, 5, 120), &reference);
  for (int round = 0; round < 2; ++round) {
    DowngradeToVersion2();
    Status other_result;
    std::thread other([&] {
      auto client = ClickHouseClient::Create(config_);
      Retrier retrier(config_.retry, "migrate");
      other_result = client.ok() ? clickhouse::Migrate(**client, retrier) : client.status();
    });
    Status st = Migrate();
    other.join();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(other_result.ok()) << other_result.ToString();
    ExpectMigrated(Rows::kDistinct);
    auto store = ClickHouseAnalytics::Open(config_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_GT(sinks::testing::ExpectSameAnswers(**store, reference, 7 + round, sinks::testing::Coverage::kTotals), 80);
  }
}

// `sagaflow migrate` SIGKILLed at five points spread over its run (the time
// of an uninterrupted one), each time on a version-2 store, then run again to
// its end: every row, every answer. A killed client's statement may go on in
// the server beside the next process's (ClickHouse does not cancel an
// INSERT ... SELECT whose client went away): the same race as two processes
// migrating at once, so rows are counted distinct.
TEST_F(ClickHouseMigrationTest, ASigkilledMigrateIsCompletedByTheNextOne) {
  sinks::testing::ReferenceAnalytics reference(dims_);
  Write(sinks::testing::RandomHistory(24, 24, 90, 200), &reference);
  const std::vector<std::string> migrate = {SAGAFLOW_BINARY, "migrate", "--store",
                                            "clickhouse://" + testing::TestServerAddress() + "/" + database_};
  const std::string log = scratch_.File("migrate.log");
  DowngradeToVersion2();
  const auto start = std::chrono::steady_clock::now();
  {
    ::sagaflow::testing::Child whole(migrate, scratch_.File("out"), log, false);
    ASSERT_EQ(whole.Wait(), 0) << ::sagaflow::testing::ReadFile(log);
  }
  const auto whole = std::chrono::steady_clock::now() - start;
  for (int fifth = 1; fifth <= 5; ++fifth) {
    DowngradeToVersion2();
    {
      ::sagaflow::testing::Child killed(migrate, scratch_.File("out"), log, false);
      std::this_thread::sleep_for(whole * fifth / 6);
      killed.Kill(SIGKILL);
      killed.Wait();
    }
    // What the kill left, for a failure's message.
    auto left_key = SortingKey(*client_, "fact_readers");
    SCOPED_TRACE(fmt::format("killed at {}/6 of {} ms: version {}, {} building table, fact_readers sorted by ({})",
                             fifth, std::chrono::duration_cast<std::chrono::milliseconds>(whole).count(),
                             Count("SELECT max(version) FROM schema_version"),
                             Count(fmt::format("SELECT count() FROM system.tables WHERE database = '{}' AND name = "
                                               "'fact_readers_v3'",
                                               database_)),
                             left_key.ok() ? *left_key : left_key.status().ToString()));
    ::sagaflow::testing::Child next(migrate, scratch_.File("out"), log, false);
    ASSERT_EQ(next.Wait(), 0) << ::sagaflow::testing::ReadFile(log);
    ExpectMigrated(Rows::kDistinct);
    auto store = ClickHouseAnalytics::Open(config_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_GT(sinks::testing::ExpectSameAnswers(**store, reference, 10 + fifth, sinks::testing::Coverage::kTotals), 80);
  }
}

}  // namespace
}  // namespace sagaflow::sinks::clickhouse
