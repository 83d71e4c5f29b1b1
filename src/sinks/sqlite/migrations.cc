#include "sinks/sqlite/migrations.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <string>

namespace sagaflow::sinks::sqlite {

// The entity rows' saga ids are those of the days' saga rows, which lead
// the entity rows' key: one range per saga, not a table scan.
const char* const kFoldEntityDays =
    "INSERT INTO rollup_entity_day(saga_id, bucket, entity_id, mentions, readers, events) "
    "SELECT saga_id, bucket / 86400 * 86400, entity_id, sum(mentions), sum(readers), sum(events) "
    "FROM rollup_entity_hour WHERE saga_id IN (SELECT DISTINCT saga_id FROM rollup_saga_hour WHERE "
    "bucket >= ?1 AND bucket < ?2) AND bucket >= ?1 AND bucket < ?2 GROUP BY 1, 2, 3";
const char* const kFoldSagaDays =
    "INSERT INTO rollup_saga_day(bucket, saga_id, events, readers) "
    "SELECT bucket / 86400 * 86400, saga_id, sum(events), sum(readers) FROM rollup_saga_hour "
    "WHERE bucket >= ?1 AND bucket < ?2 GROUP BY 1, 2";

namespace {

// Version 1: the star schema. Ids of dimensions and sources are stable
// 63-bit hashes of their names (pipeline/dimensions.h); event_key is local to
// this store. Foreign keys are declared for readers of the schema; the
// pipeline guarantees them (SQLite does not enforce them by default).
//
// fact_readers is an append-only rowid table without secondary indexes:
// every index costs a B-tree search per row (about 1 us, measured: one
// index on (saga_id, time) took a third more CPU per event, two more than
// doubled it), and it receives ~10 rows per event. Queries scan it (about
// 70 ms CPU per 200,000 rows); (event_key, entity_id) is unique by
// construction (one row per entity, events deduplicated on their source
// position).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE dim_saga (
  saga_id INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE
);
CREATE TABLE dim_entity (
  entity_id INTEGER PRIMARY KEY,
  name      TEXT NOT NULL,
  saga_id   INTEGER REFERENCES dim_saga(saga_id),
  kind      TEXT NOT NULL
);
CREATE INDEX dim_entity_name ON dim_entity(name);
CREATE TABLE source (
  source_id     INTEGER PRIMARY KEY,
  stream_key    TEXT NOT NULL UNIQUE,
  description   TEXT NOT NULL,
  position      INTEGER,
  line          INTEGER,
  digest        INTEGER,
  first_seen_at INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE TABLE fact_event (
  event_key  INTEGER PRIMARY KEY,
  source_id  INTEGER NOT NULL REFERENCES source(source_id),
  position   INTEGER NOT NULL,
  line       INTEGER NOT NULL,
  article_id TEXT NOT NULL,
  saga_id    INTEGER REFERENCES dim_saga(saga_id),
  readers    INTEGER NOT NULL,
  time       INTEGER NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('classified', 'empty')),
  UNIQUE (source_id, position)
);
CREATE TABLE fact_readers (
  event_key INTEGER NOT NULL REFERENCES fact_event(event_key),
  entity_id INTEGER NOT NULL REFERENCES dim_entity(entity_id),
  saga_id   INTEGER NOT NULL REFERENCES dim_saga(saga_id),
  mentions  INTEGER NOT NULL CHECK (mentions > 0),
  readers   INTEGER NOT NULL,
  time      INTEGER NOT NULL
);
CREATE TABLE dead_letter (
  dead_letter_id INTEGER PRIMARY KEY,
  source_id      INTEGER NOT NULL REFERENCES source(source_id),
  position       INTEGER NOT NULL,
  line           INTEGER NOT NULL,
  reason         TEXT NOT NULL,
  detail         TEXT NOT NULL,
  excerpt        TEXT NOT NULL,
  payload_bytes  INTEGER NOT NULL,
  received_at    INTEGER NOT NULL,
  UNIQUE (source_id, position)
);
)sql";

// Version 2: rollups and zone maps (docs/schema.md#rollups), maintained by
// the sink in the same transaction as the facts they summarise.
//  - rollup_entity_{hour,day}: per saga, entity and UTC hour/day (`bucket`,
//    its start in unix seconds) the mentions, the readers of the events
//    that mention the entity and the number of those events; keyed for
//    top-entities (one saga's buckets), indexed by entity for trend;
//  - rollup_saga_{hour,day}: per saga and bucket the events and readers;
//    saga_id 0 holds the empty texts (fact_event's NULL saga);
//  - zone_event / zone_readers: per hour, the event_key and rowid ranges
//    holding its fact rows (a conservative superset), so that the partial
//    hours at a window's edges read a few thousand fact rows, not the table
//    (fact_readers has no time index: see version 1). zone_readers.rows
//    counts the hour's rows, which lets a query verify its range.
const char* SchemaV2() {
  static const std::string kSql = [] {
    std::string sql;
    for (const char* grain : {"hour", "day"}) {
      sql += fmt::format(R"sql(
CREATE TABLE rollup_entity_{0} (
  saga_id   INTEGER NOT NULL,
  bucket    INTEGER NOT NULL,
  entity_id INTEGER NOT NULL,
  mentions  INTEGER NOT NULL,
  readers   INTEGER NOT NULL,
  events    INTEGER NOT NULL,
  PRIMARY KEY (saga_id, bucket, entity_id)
) WITHOUT ROWID;
CREATE INDEX rollup_entity_{0}_entity ON rollup_entity_{0}(entity_id, bucket);
CREATE TABLE rollup_saga_{0} (
  bucket  INTEGER NOT NULL,
  saga_id INTEGER NOT NULL,
  events  INTEGER NOT NULL,
  readers INTEGER NOT NULL,
  PRIMARY KEY (bucket, saga_id)
) WITHOUT ROWID;)sql",
                         grain);
    }
    return sql + R"sql(
CREATE TABLE zone_event (
  hour    INTEGER PRIMARY KEY,
  key_min INTEGER NOT NULL,
  key_max INTEGER NOT NULL
);
CREATE TABLE zone_readers (
  hour      INTEGER PRIMARY KEY,
  rowid_min INTEGER NOT NULL,
  rowid_max INTEGER NOT NULL,
  rows      INTEGER NOT NULL
);
)sql";
  }();
  return kSql.c_str();
}

// Version 3: the day rollups hold the days before rollup_state.days_until;
// later days are in the hour rollups only, until a batch with events of a
// newer day folds the days before it into day rows with one INSERT ...
// SELECT (SqliteSink). A batch so upserts one rollup row per saga, entity
// and hour instead of two (an hour's and a day's); queries read the days
// not yet folded from the hours (query::PlanSpans' days_before). Version 2
// kept every day in the day rollups: they are all folded.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE rollup_state (
  id         INTEGER PRIMARY KEY CHECK (id = 0),
  days_until INTEGER NOT NULL
);
INSERT INTO rollup_state(id, days_until) SELECT 0, coalesce(max(bucket) + 86400, 0) FROM rollup_saga_day;
)sql";

// Rows per backfill statement: progress granularity.
constexpr int64_t kBackfillChunk = 1 << 20;

// Runs `sql` (parameters ?1, ?2: a key range) over [1, max key of `table`]
// in chunks, reporting progress as `what`.
Status Chunked(Db& db, const char* table, const char* key, const char* what, const std::vector<const char*>& sqls) {
  auto max = db.Prepare(fmt::format("SELECT coalesce(max({}), 0) FROM {}", key, table));
  if (!max.ok()) return max.status();
  auto row = max->Step();
  if (!row.ok()) return row.status();
  const int64_t last = max->Int(0);
  const bool tty = ::isatty(STDERR_FILENO);
  std::vector<Statement> stmts;
  for (const char* sql : sqls) {
    auto st = db.Prepare(sql);
    if (!st.ok()) return st.status();
    stmts.push_back(std::move(*st));
  }
  for (int64_t lo = 1; lo <= last; lo += kBackfillChunk) {
    for (Statement& st : stmts) {
      st.Bind(1, lo);
      st.Bind(2, lo + kBackfillChunk - 1);
      SAGAFLOW_RETURN_IF_ERROR(st.Run());
    }
    if (tty) {
      const int64_t done = std::min(last, lo + kBackfillChunk - 1);
      std::fprintf(stderr, "\r%s: %3d%% (%lld of %lld rows)", what, static_cast<int>(100 * done / last),
                   static_cast<long long>(done), static_cast<long long>(last));
    }
  }
  if (tty && last > 0) std::fprintf(stderr, "\n");
  return Status::Ok();
}

// Version 2's rollups and zones for the facts already stored. It runs in
// the migration's transaction: interrupted, it leaves nothing, and the
// next start runs it again from scratch (idempotent).
Status BackfillV2(Db& db) {
  spdlog::info("{}: migration 2: building rollups for the stored facts", db.path());
  SAGAFLOW_RETURN_IF_ERROR(Chunked(
      db, "fact_readers", "rowid", "migration 2: fact_readers -> rollup_entity_hour",
      {"INSERT INTO rollup_entity_hour(saga_id, bucket, entity_id, mentions, readers, events) "
       "SELECT saga_id, time / 3600 * 3600, entity_id, sum(mentions), sum(readers), count(*) FROM fact_readers "
       "WHERE rowid BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3 ON CONFLICT DO UPDATE SET mentions = mentions + "
       "excluded.mentions, readers = readers + excluded.readers, events = events + excluded.events",
       "INSERT INTO zone_readers(hour, rowid_min, rowid_max, rows) "
       "SELECT time / 3600 * 3600, min(rowid), max(rowid), count(*) FROM fact_readers WHERE rowid BETWEEN ?1 AND ?2 "
       "GROUP BY 1 ON CONFLICT DO UPDATE SET rowid_min = min(rowid_min, excluded.rowid_min), "
       "rowid_max = max(rowid_max, excluded.rowid_max), rows = rows + excluded.rows"}));
  SAGAFLOW_RETURN_IF_ERROR(Chunked(
      db, "fact_event", "event_key", "migration 2: fact_event -> rollup_saga_hour",
      {"INSERT INTO rollup_saga_hour(bucket, saga_id, events, readers) "
       "SELECT time / 3600 * 3600, coalesce(saga_id, 0), count(*), sum(readers) FROM fact_event "
       "WHERE event_key BETWEEN ?1 AND ?2 GROUP BY 1, 2 ON CONFLICT DO UPDATE SET events = events + excluded.events, "
       "readers = readers + excluded.readers",
       "INSERT INTO zone_event(hour, key_min, key_max) "
       "SELECT time / 3600 * 3600, min(event_key), max(event_key) FROM fact_event WHERE event_key BETWEEN ?1 AND ?2 "
       "GROUP BY 1 ON CONFLICT DO UPDATE SET key_min = min(key_min, excluded.key_min), "
       "key_max = max(key_max, excluded.key_max)"}));
  for (const char* sql : {kFoldEntityDays, kFoldSagaDays}) {
    auto fold = db.Prepare(sql);
    if (!fold.ok()) return fold.status();
    fold->Bind(1, int64_t{0});
    fold->Bind(2, std::numeric_limits<int64_t>::max());
    SAGAFLOW_RETURN_IF_ERROR(fold->Run());
  }
  spdlog::info("{}: migration 2: rollups built", db.path());
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kAll = {
      {1, "star schema: dim_saga, dim_entity, source, fact_event, fact_readers, dead_letter", kSchemaV1},
      {2, "rollups per saga/entity and saga per hour and day, zone maps of the fact tables", SchemaV2(), BackfillV2},
      {3, "day rollups folded from the hours once a day has passed (rollup_state)", kSchemaV3},
  };
  return kAll;
}

int LatestSchemaVersion() { return Migrations().back().version; }

Result<int> SchemaVersion(Db& db) {
  auto has = db.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!has.ok()) return has.status();
  auto row = has->Step();
  if (!row.ok()) return row.status();
  if (has->Int(0) == 0) return 0;
  auto v = db.Prepare("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!v.ok()) return v.status();
  row = v->Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(v->Int(0));
}

Status Migrate(Db& db) {
  SAGAFLOW_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version ("
              " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
  for (const Migration& m : Migrations()) {
    // IMMEDIATE: take the write lock before reading the version, so two
    // processes starting together cannot both apply a migration.
    SAGAFLOW_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    auto apply = [&]() -> Status {
      auto current = SchemaVersion(db);
      if (!current.ok()) return current.status();
      if (*current > LatestSchemaVersion()) {
        return Status::Unsupported(
            fmt::format("{}: schema version {} is newer than this sagaflow supports ({}); upgrade sagaflow", db.path(),
                        *current, LatestSchemaVersion()));
      }
      if (*current >= m.version) return Status::Ok();
      SAGAFLOW_RETURN_IF_ERROR(db.Exec(m.sql).WithContext(fmt::format("migration {}", m.version)));
      if (m.backfill) SAGAFLOW_RETURN_IF_ERROR(m.backfill(db).WithContext(fmt::format("migration {}", m.version)));
      auto ins = db.Prepare("INSERT INTO schema_version(version, description, applied_at) VALUES (?1, ?2, ?3)");
      if (!ins.ok()) return ins.status();
      ins->Bind(1, static_cast<int64_t>(m.version));
      ins->Bind(2, std::string_view(m.description));
      ins->Bind(3, static_cast<int64_t>(std::time(nullptr)));
      return ins->Run();
    };
    Status st = apply();
    if (!st.ok()) {
      db.Exec("ROLLBACK");
      return st;
    }
    SAGAFLOW_RETURN_IF_ERROR(db.Exec("COMMIT"));
  }
  return Status::Ok();
}

}  // namespace sagaflow::sinks::sqlite
