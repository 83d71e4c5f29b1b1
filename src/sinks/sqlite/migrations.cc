#include "sinks/sqlite/migrations.h"

#include <fmt/format.h>

#include <ctime>

namespace sagaflow::sinks::sqlite {

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

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kAll = {
      {1, "star schema: dim_saga, dim_entity, source, fact_event, fact_readers, dead_letter", kSchemaV1},
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
