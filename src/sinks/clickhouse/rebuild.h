// Rebuilding a table of the ClickHouse store under a new sorting key
// (migration 3, docs/clickhouse-migrations.md).
//
// ClickHouse cannot change a MergeTree's ORDER BY in place, so a rebuild
// creates the table anew under a building name, copies the rows into it
// and swaps the two with RENAME:
//
//   T          the live table (on a cluster: T_local, behind the
//              Distributed T, which follows the rename by name)
//   T_vN       the new table being filled (cluster: T_vN_local and a
//              Distributed T_vN to insert through), N = the migration
//   T_vN-1     the old table once swapped out, dropped when the swap is done
//
// Every step is decided from what the server holds, never from memory of a
// previous run, so a rebuild killed anywhere is finished by the next one:
//  - the copy runs in steps of whole days (at most about 2 M rows each),
//    and a step is copied only when the new table holds fewer of its rows
//    than the old one; a step cut short is completed with the rows whose
//    identity (the table's row key) the new table lacks, so no row is lost
//    and none is copied twice;
//  - a swap cut between its two renames (the live name missing) is
//    completed by renaming the new table, or the old one back;
//  - the old table is dropped only once the live one has the new key;
//  - processes rebuilding at once share the building table; a failed copy
//    or rename is judged on the next pass by the state the other one left,
//    and a swap is made only while the live table still has the old key.
// Writers must be stopped (every sagaflow start migrates first; an older
// binary's writers must be stopped by hand, as for migration 2).
#pragma once

#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/cluster.h"
#include "sinks/clickhouse/retry.h"

namespace sagaflow::sinks::clickhouse {

struct Rebuild {
  TableSpec table;          // the table as it must end: its name and new sorting key
  const char* time_column;  // copy steps are day ranges of it (a UInt32 of unix seconds)
  const char* row_key;      // columns identifying a row (a row's copies share them and every value)
};

// Brings `rebuild.table` to its sorting key, copying its rows; nothing to do
// when it has it already (a store created at the new layout). `version` is
// the migration's, for the building names and progress (on a terminal).
Status RebuildTable(ClickHouseClient& client, Retrier& retrier, const Rebuild& rebuild, int version);

// Drops `table` of the schema if it exists: on a cluster the Distributed
// table and the local ones behind it. Another process dropping it at the
// same time is no error.
Status DropSchemaTable(ClickHouseClient& client, Retrier& retrier, const std::string& table);

// The sorting key of `table` in the current database as system.tables
// spells it ("a, b, c"), on a cluster of its local table; "" when missing.
Result<std::string> SortingKey(ClickHouseClient& client, const std::string& table);

}  // namespace sagaflow::sinks::clickhouse
