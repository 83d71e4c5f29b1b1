// Versioned schema migrations of the SQLite store (docs/schema.md).
//
// The schema_version table lists every migration applied. Migrate() applies
// the missing ones in order, each in its own transaction, and refuses a
// database whose version is newer than this binary knows. Migrations only
// add: no migration drops or rewrites stored facts.
#pragma once

#include <string>
#include <vector>

#include "sinks/sqlite/sqlite_db.h"

namespace sagaflow::sinks::sqlite {

// The day rollups' rows of the days in [?1, ?2) (unix seconds), summed
// from the hour rollups. Plain INSERTs: those days must have no day rows
// yet (a conflict would mean a day counted twice). Migration 2 builds
// every day with them; SqliteSink folds the days passed (migration 3).
extern const char* const kFoldEntityDays;
extern const char* const kFoldSagaDays;

struct Migration {
  int version;
  const char* description;
  const char* sql;
  // Builds derived data for rows already stored (e.g. rollups), in the
  // migration's transaction, after `sql`; nullptr when there is none.
  Status (*backfill)(Db& db) = nullptr;
};

// All migrations, by increasing version.
const std::vector<Migration>& Migrations();
int LatestSchemaVersion();

// Brings `db` to the latest version; a backfill shows its progress on
// stderr when that is a terminal, and logs its start and end. Safe to run concurrently from several
// processes (the first takes the write lock, the others then see the work done).
Status Migrate(Db& db);

// The version of an existing store: 0 if it has no schema_version table.
Result<int> SchemaVersion(Db& db);

}  // namespace sagaflow::sinks::sqlite
