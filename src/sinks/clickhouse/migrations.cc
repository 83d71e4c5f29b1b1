#include "sinks/clickhouse/migrations.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "query/rollup_plan.h"
#include "sinks/clickhouse/rebuild.h"
#include "sinks/clickhouse/rollups.h"
#include "sinks/clickhouse/sql.h"

namespace sagaflow::sinks::clickhouse {

namespace {

// Version 1: the star schema. Types and keys (docs/clickhouse.md):
//  - ids are the stable 63-bit ids of pipeline/dimensions.h, as UInt64;
//    0 stands for "none" (SQLite's NULL): the saga of an empty text, the
//    scope of an unscoped entity; times are unix seconds (UInt32 holds the
//    event contract's whole range), readers fit UInt32;
//  - fact tables are ReplacingMergeTree: rows with equal sorting keys are
//    copies of one row (a redelivered event is analysed identically), and
//    the sorting key always determines the row, so collapsing is exact;
//  - fact_event and dead_letter are sorted by (source_id, position): the
//    duplicate pre-check of each batch is a primary-key range read;
//  - fact_readers is sorted by (saga_id, time, entity_id, ...): the edges of
//    a window (top-entities, trend) read one saga's time range (migration 3;
//    version 1 created it sorted by (saga_id, entity_id, time, ...), which
//    cannot skip rows for a time condition);
//  - source keeps checkpoints; ReplacingMergeTree(position) keeps the
//    furthest one, and LoadCheckpoint reads the furthest too;
//  - dim_entity is ReplacingMergeTree(version): kind is a type-1 attribute,
//    the newest version wins.
// No PARTITION BY: one partition keeps every insert one part per table
// (events of any time span never fan out into many parts).
// Tables are created at today's sorting keys: migration 3 rebuilds the
// tables of older stores, and finds nothing to do in a store created so.
// On a cluster (cluster.h) the facts, checkpoints and rollups are sharded by
// source_id: a stream's rows stay on one shard.
constexpr const char* kFactReadersKey = "(saga_id, time, entity_id, source_id, position)";
constexpr const char* kFactReadersRowKey = "saga_id, entity_id, time, source_id, position";
constexpr const char* kFactReadersKeyV1 = "(saga_id, entity_id, time, source_id, position)";

const std::vector<TableSpec> kSchemaV1 = {
    {"dim_saga", "saga_id UInt64,\n  name    String", "ReplacingMergeTree", "", "saga_id", "saga_id"},
    {"dim_entity",
     "entity_id UInt64,\n  name      String,\n  saga_id   UInt64,\n  kind      String,\n  version   UInt64",
     "ReplacingMergeTree", "version", "entity_id", "entity_id"},
    {"source",
     "source_id     UInt64,\n  stream_key    String,\n  description   String,\n  position      UInt64,\n"
     "  line          UInt64,\n  digest        UInt64,\n  first_seen_at Int64,\n  updated_at    Int64",
     "ReplacingMergeTree", "position", "source_id", "source_id"},
    {"fact_event",
     "source_id  UInt64,\n  position   UInt64,\n  line       UInt64,\n  article_id String,\n  saga_id    UInt64,\n"
     "  readers    UInt32,\n  time       UInt32,\n  status     Enum8('classified' = 1, 'empty' = 2)",
     "ReplacingMergeTree", "", "(source_id, position)", "source_id"},
    {"fact_readers",
     "saga_id   UInt64,\n  entity_id UInt64,\n  time      UInt32,\n  source_id UInt64,\n  position  UInt64,\n"
     "  mentions  UInt32,\n  readers   UInt32",
     "ReplacingMergeTree", "", kFactReadersKey, "source_id"},
    {"dead_letter",
     "source_id     UInt64,\n  position      UInt64,\n  line          UInt64,\n  reason        String,\n"
     "  detail        String,\n  excerpt       String,\n  payload_bytes UInt64,\n  received_at   Int64",
     "ReplacingMergeTree", "", "(source_id, position)", "source_id"},
};

const TableSpec kSchemaVersion = {
    "schema_version", "version UInt32, description String, applied_at Int64", "MergeTree", "", "version", "version"};

constexpr const char* kFactTables[] = {"fact_event", "fact_readers", "dead_letter"};

Result<bool> Exists(ClickHouseClient& client, const std::string& sql) {
  auto r = client.Query(sql + " FORMAT TabSeparated", false);
  if (!r.ok()) return r.status();
  auto n = ParseInt(std::string_view(*r).substr(0, r->find('\n')), "a count");
  if (!n.ok()) return n.status();
  return *n > 0;
}

// Days of events per backfill statement: progress granularity.
constexpr int64_t kBackfillDays = 30;

// Rollups for the facts already stored, 30 days at a time, with progress
// on a terminal. Only the 30-day ranges that hold facts are visited (read
// from both fact tables: a crash may leave mentions whose events were not
// stored yet), so facts at both ends of the time domain cost two steps, not
// thousands of empty ones. Every statement inserts the prefixes of the
// facts it reads (rollups.h): re-run after an interruption, or by two
// processes at once, it inserts identical or longer prefixes, never a
// double count.
Status BackfillRollups(ClickHouseClient& client, Retrier& retrier, int version) {
  const int64_t step = kBackfillDays * query::kDay;
  auto ranges = RetriedQuery(
      client, retrier, "read the facts' time ranges",
      fmt::format("SELECT r, sum(e) FROM (SELECT intDiv(time, {0}) AS r, toUInt64(1) AS e FROM fact_event"
                  " UNION ALL SELECT intDiv(time, {0}) AS r, toUInt64(0) AS e FROM fact_readers) GROUP BY r ORDER BY r"
                  " FORMAT TabSeparated",
                  step));
  if (!ranges.ok()) return ranges.status();
  auto rows = ParseTsv(*ranges, 2);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Ok();
  std::vector<int64_t> starts;
  uint64_t events = 0;
  for (const auto& row : *rows) {
    auto r = ParseInt(row[0], "a backfill range");
    auto n = ParseUint(row[1], "a count");
    if (!r.ok() || !n.ok()) return Status::Corruption("fact tables: unreadable time ranges");
    starts.push_back(*r * step);
    events += *n;
  }
  const bool tty = ::isatty(STDERR_FILENO);
  const auto total = static_cast<long long>(starts.size());
  spdlog::info("{}: migration {}: building rollups for {} events in {} steps of 30 days", client.config().Describe(),
               version, events, total);
  long long done = 0;
  for (const int64_t begin : starts) {
    SAGAFLOW_RETURN_IF_ERROR(RetriedQuery(client, retrier, fmt::format("migration {}: backfill", version),
                                          RollupBackfill(begin, begin + step))
                                 .status());
    ++done;
    if (tty)
      std::fprintf(stderr, "\rmigration %d: rollups %3lld%% (%lld of %lld steps of 30 days)", version,
                   100 * done / total, done, total);
  }
  if (tty) std::fprintf(stderr, "\n");
  spdlog::info("{}: migration {}: rollups built", client.config().Describe(), version);
  return Status::Ok();
}

TableSpec SpecOf(const std::vector<TableSpec>& tables, std::string_view name) {
  for (const TableSpec& t : tables) {
    if (name == t.name) return t;
  }
  return {};
}

// Version 3: a sorting key that lets a window's time condition skip rows
// (docs/clickhouse-migrations.md): fact_readers rebuilt sorted (saga_id,
// time, entity_id, ...) in stores created before. (It also added hour
// rollups sorted entity first, which version 4 replaced.)
Status MigrateV3(ClickHouseClient& client, Retrier& retrier) {
  for (const Rebuild& r : SortingKeyRebuilds()) SAGAFLOW_RETURN_IF_ERROR(RebuildTable(client, retrier, r, 3));
  return Status::Ok();
}

// Version 4: the day rollups with their hours (rollups.h), built from the
// stored facts; then the rollup tables of versions 2 and 3 are dropped.
Status MigrateV4(ClickHouseClient& client, Retrier& retrier) {
  SAGAFLOW_RETURN_IF_ERROR(BackfillRollups(client, retrier, 4));
  for (const char* table : RetiredRollupTables()) SAGAFLOW_RETURN_IF_ERROR(DropSchemaTable(client, retrier, table));
  return Status::Ok();
}

}  // namespace

const std::vector<Rebuild>& SortingKeyRebuilds() {
  static const std::vector<Rebuild> kAll = {
      {SpecOf(kSchemaV1, "fact_readers"), "time", kFactReadersRowKey},
  };
  return kAll;
}

std::vector<Rebuild> Version2Layouts() {
  std::vector<Rebuild> out = SortingKeyRebuilds();
  out[0].table.order_by = kFactReadersKeyV1;
  return out;
}

const std::vector<Migration>& Migrations() {
  // Versions 2 and 3 created rollup tables that version 4 replaces: this
  // binary no longer creates or fills them on the way to version 4.
  static const std::vector<Migration> kAll = {
      {1, "star schema: dim_saga, dim_entity, source, fact_event, fact_readers, dead_letter", kSchemaV1},
      {2, "rollups per saga/entity and saga, per hour and day, as per-stream prefixes (replaced by version 4)", {}},
      {3, "fact_readers sorted by saga and time", {}, MigrateV3},
      {4, "rollups per saga/entity, day and stream with their hours", RollupSchema(), MigrateV4},
  };
  return kAll;
}

int LatestSchemaVersion() { return Migrations().back().version; }

Result<int> SchemaVersion(ClickHouseClient& client) {
  const std::string db = QuoteString(client.config().database);
  auto has_db = Exists(client, "SELECT count() FROM system.databases WHERE name = " + db);
  if (!has_db.ok()) return has_db.status();
  if (!*has_db) return Status::NotFound(fmt::format("database {} does not exist", client.config().database));
  auto has_table = TableExists(client, "schema_version");
  if (!has_table.ok()) return has_table.status();
  if (!*has_table) return 0;
  auto r = client.Query("SELECT max(version) FROM schema_version FORMAT TabSeparated");
  if (!r.ok()) return r.status();
  auto v = ParseInt(std::string_view(*r).substr(0, r->find('\n')), "the schema version");
  if (!v.ok()) return v.status();
  return static_cast<int>(*v);
}

Status Migrate(ClickHouseClient& client, Retrier& retrier) {
  // Up to date: no DDL at all, so that a login without DDL rights (the run
  // role of docs/clickhouse.md, after `sagaflow migrate`) can start.
  Result<int> before = Status::Internal("unset");
  SAGAFLOW_RETURN_IF_ERROR(retrier.Run("read schema version", [&] {
    before = SchemaVersion(client);
    return before.ok() || before.status().code() == Status::Code::kNotFound ? Status::Ok() : before.status();
  }));
  if (before.ok() && *before == LatestSchemaVersion()) return Status::Ok();
  SAGAFLOW_RETURN_IF_ERROR(
      RetriedQuery(client, retrier, "create database", CreateDatabase(client.config()), /*use_database=*/false)
          .status());
  SAGAFLOW_RETURN_IF_ERROR(EnsureTable(client, retrier, "create schema_version", kSchemaVersion));
  Result<int> current = Status::Internal("unset");
  SAGAFLOW_RETURN_IF_ERROR(retrier.Run("read schema version", [&] {
    current = SchemaVersion(client);
    return current.ok() ? Status::Ok() : current.status();
  }));
  if (*current > LatestSchemaVersion()) {
    return Status::Unsupported(
        fmt::format("{}: schema version {} is newer than this sagaflow supports ({}); upgrade sagaflow",
                    client.config().Describe(), *current, LatestSchemaVersion()));
  }
  for (const Migration& m : Migrations()) {
    if (m.version <= *current) continue;
    for (const TableSpec& table : m.tables) {
      SAGAFLOW_RETURN_IF_ERROR(EnsureTable(client, retrier, fmt::format("migration {}", m.version), table));
    }
    if (m.backfill) SAGAFLOW_RETURN_IF_ERROR(m.backfill(client, retrier));
    // Recorded last: a migration cut short is re-run whole next time
    // (its statements are idempotent).
    const std::string row = fmt::format("{}\t", m.version);
    std::string rows = row;
    AppendTsvField(&rows, m.description);
    rows += fmt::format("\t{}\n", static_cast<int64_t>(std::time(nullptr)));
    SAGAFLOW_RETURN_IF_ERROR(retrier.Run(fmt::format("record migration {}", m.version), [&] {
      return client.Insert("INSERT INTO schema_version (version, description, applied_at) FORMAT TabSeparated", rows);
    }));
  }
  return Status::Ok();
}

Result<ServerFeatures> DetectFeatures(ClickHouseClient& client) {
  ServerFeatures f;
  auto token = Exists(client, "SELECT count() FROM system.settings WHERE name = 'insert_deduplication_token'");
  if (!token.ok()) return token.status();
  f.insert_deduplication_token = *token;
  auto window = Exists(
      client, "SELECT count() FROM system.merge_tree_settings WHERE name = 'non_replicated_deduplication_window'");
  if (!window.ok()) return window.status();
  f.non_replicated_deduplication_window = *window;
  return f;
}

Status EnableInsertDeduplication(ClickHouseClient& client, const ServerFeatures& features) {
  if (!features.insert_deduplication_token || !features.non_replicated_deduplication_window) return Status::Ok();
  // A cluster's tables are replicated: they deduplicate inserts already.
  if (!client.config().cluster.empty()) return Status::Ok();
  for (const char* table : kFactTables) {
    // Replicated tables (an operator's choice) deduplicate already.
    auto engine =
        client.Query(fmt::format("SELECT engine, engine_full FROM system.tables WHERE database = {} AND "
                                 "name = '{}' FORMAT TabSeparated",
                                 QuoteString(client.config().database), table));
    if (!engine.ok()) return engine.status();
    if (engine->rfind("Replicated", 0) == 0 ||
        engine->find("non_replicated_deduplication_window") != std::string::npos) {
      continue;
    }
    auto r =
        client.Query(fmt::format("ALTER TABLE {} MODIFY SETTING non_replicated_deduplication_window = 1000", table));
    if (!r.ok()) return r.status().WithContext(fmt::format("enabling insert deduplication on {}", table));
  }
  return Status::Ok();
}

}  // namespace sagaflow::sinks::clickhouse
