// Where the ClickHouse store's tables live: one server, or a replicated and
// sharded cluster (`clickhouse://...?cluster=NAME`, docs/clickhouse.md
// "Replicated and sharded").
//
// On a cluster every table NAME of the schema is two tables on every node,
// created ON CLUSTER:
//   NAME_local  Replicated<engine>('/clickhouse/tables/{shard}/DB/NAME_local',
//               '{replica}'): the rows of this node's shard, copied between
//               the shard's replicas through ZooKeeper;
//   NAME        Distributed(cluster, DB, NAME_local, <sharding key>): what
//               the sink inserts into and every query reads, under the
//               single server's table names (the queries are the same).
// The sharding key of the facts, checkpoints and rollups is the stream's
// source_id, so all rows of one Kafka partition (or file) live on one shard:
// a redelivered record lands beside its first copy and merges away there.
#pragma once

#include <string>
#include <vector>

#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/clickhouse_config.h"
#include "sinks/clickhouse/retry.h"

namespace sagaflow::sinks::clickhouse {

// One table of the schema, independent of where it lives.
struct TableSpec {
  const char* name;
  std::string columns;        // the column list, without its parentheses
  const char* engine;         // "ReplacingMergeTree" or "MergeTree"
  const char* version;        // ReplacingMergeTree's version column; "" for none
  const char* order_by;       // the sorting key
  const char* shard_by;       // the Distributed table's sharding key (cluster only)
  const char* settings = "";  // the MergeTree's SETTINGS, "" for the defaults
};

// The idempotent statements creating `table` in config.database: the plain
// table on one server; on a cluster the replicated local table and the
// Distributed table over it, both ON CLUSTER.
std::vector<std::string> CreateTable(const TableSpec& table, const ClickHouseConfig& config);
// CREATE DATABASE IF NOT EXISTS, ON CLUSTER on a cluster.
std::string CreateDatabase(const ClickHouseConfig& config);

// Runs the statements of CreateTable in the current database, retrying
// outages through `retrier`. On a cluster, a node or ZooKeeper failing in the
// middle of creating a replicated table (a SIGKILL, a lost ZooKeeper session)
// can leave the node's replica registered in ZooKeeper without the table on
// the node; every later CREATE then fails there with REPLICA_IS_ALREADY_EXISTS
// (253), the next migration's included. The same definition is then
// ATTACHed (IF NOT EXISTS, ON CLUSTER): that node attaches the replica it
// registered, which fetches its parts from the shard's other replicas, and
// the nodes that have the table do nothing.
Status EnsureTable(ClickHouseClient& client, Retrier& retrier, std::string_view what, const TableSpec& table);

// Whether `table` exists in the current database (on a cluster: on the
// node answering).
Result<bool> TableExists(ClickHouseClient& client, const std::string& table);

// The settings every request of a writer to a cluster store carries, checked
// against the server's remote_servers (empty on one server):
//   insert_distributed_sync=1      an insert returns once every shard stored
//                                  its rows, not when the entry node queued them;
//   insert_quorum=N                ... on N replicas of the shard (default: a
//                                  majority of the smallest shard's replicas);
//   select_sequential_consistency  reads (the duplicate pre-check, the rollups'
//                                  stored prefixes, checkpoints) see every
//                                  acknowledged insert, or fail and are retried;
//   load_balancing=in_order        (quorum 1 only) reads and inserts reach the
//                                  same replica while it is up.
// kInvalidArgument when the cluster is unknown to the server or has fewer
// replicas per shard than insert_quorum asks.
Result<ClickHouseClient::Settings> ClusterWriteSettings(ClickHouseClient& client);

// kInvalidArgument when the store's tables are not laid out as the URI says:
// Distributed tables written without cluster=NAME (neither synchronous nor
// quorum inserts), or a single server's tables written with it (no replica
// would hold them). Readers need no such check: the queries are the same.
Status CheckLayout(ClickHouseClient& client);

}  // namespace sagaflow::sinks::clickhouse
