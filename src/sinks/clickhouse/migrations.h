// Versioned schema migrations of the ClickHouse store (docs/clickhouse.md).
//
// The same star schema as SQLite (docs/schema.md), shaped for ClickHouse:
// every fact table is a ReplacingMergeTree whose sorting key contains the
// source position, so a row stored twice is one row after merges, and every
// query collapses the copies merges have not reached yet.
//
// ClickHouse has no transactions and no locks, so each migration is a list
// of idempotent statements (CREATE ... IF NOT EXISTS), recorded in
// schema_version only after all of them succeeded: a migration interrupted
// halfway, or run by two processes at once, is simply completed by the next
// start. Migration 1 only adds; migration 3 rebuilds fact_readers under a
// new sorting key (rebuild.h: copy, then swap by RENAME, resumable from any
// point); migration 4 adds the day rollups (rollups.h), builds them from
// the facts and drops the rollup tables of versions 2 and 3. Tables are
// created at today's keys, so that a new store rebuilds nothing. On a
// cluster every statement runs ON CLUSTER (cluster.h).
#pragma once

#include <string>
#include <vector>

#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/cluster.h"
#include "sinks/clickhouse/rebuild.h"
#include "sinks/clickhouse/retry.h"

namespace sagaflow::sinks::clickhouse {

struct Migration {
  int version;
  const char* description;
  std::vector<TableSpec> tables;  // created where the store lives (cluster.h)
  // Builds derived data for the facts already stored (idempotent: run
  // again, it changes no answer), after `tables`; nullptr if none.
  Status (*backfill)(ClickHouseClient& client, Retrier& retrier) = nullptr;
};

// Migration 3's rebuilds: the tables whose sorting key it changes
// (fact_readers), at their new keys.
const std::vector<Rebuild>& SortingKeyRebuilds();
// The same tables at their version-2 sorting keys (tests build version-2
// stores with them).
std::vector<Rebuild> Version2Layouts();

// All migrations, by increasing version.
const std::vector<Migration>& Migrations();
int LatestSchemaVersion();

// The newest version recorded in the current database: 0 without a
// schema_version table. kNotFound if the database does not exist.
Result<int> SchemaVersion(ClickHouseClient& client);

// Creates the database if missing and brings it to the latest version
// (kUnsupported if it is newer than this binary knows). Retriable errors are
// retried through `retrier`.
Status Migrate(ClickHouseClient& client, Retrier& retrier);

// Features of the server this store is on, detected from system tables
// (never from the version string).
struct ServerFeatures {
  bool insert_deduplication_token = false;           // setting (22.2+)
  bool non_replicated_deduplication_window = false;  // MergeTree setting (20.x+)
};
Result<ServerFeatures> DetectFeatures(ClickHouseClient& client);

// Where the server can deduplicate inserts into non-replicated tables, turns
// it on for the fact tables (a setting, idempotent; no data is touched).
Status EnableInsertDeduplication(ClickHouseClient& client, const ServerFeatures& features);

}  // namespace sagaflow::sinks::clickhouse
