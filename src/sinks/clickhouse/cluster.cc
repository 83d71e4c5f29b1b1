#include "sinks/clickhouse/cluster.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "sinks/clickhouse/sql.h"

namespace sagaflow::sinks::clickhouse {

std::vector<std::string> CreateTable(const TableSpec& t, const ClickHouseConfig& config) {
  const std::string version = *t.version ? fmt::format("({})", t.version) : "";
  const std::string settings = *t.settings ? fmt::format(" SETTINGS {}", t.settings) : "";
  if (config.cluster.empty()) {
    return {fmt::format("CREATE TABLE IF NOT EXISTS {} (\n  {}\n) ENGINE = {}{} ORDER BY {}{}", t.name, t.columns,
                        t.engine, version, t.order_by, settings)};
  }
  // Names are qualified: an ON CLUSTER statement runs on other nodes, outside
  // this request's database. The ZooKeeper path holds the shard macro, so the
  // replicas of one shard share a table and the shards do not; {replica}
  // names this node among them. Both macros come from each server's config.
  const std::string& db = config.database;
  const std::string local = fmt::format("{}_local", t.name);
  return {
      fmt::format("CREATE TABLE IF NOT EXISTS {0}.{1} ON CLUSTER {2} (\n  {3}\n) ENGINE = Replicated{4}("
                  "'/clickhouse/tables/{{shard}}/{0}/{1}', '{{replica}}'{5}) ORDER BY {6}{7}",
                  db, local, config.cluster, t.columns, t.engine, *t.version ? fmt::format(", {}", t.version) : "",
                  t.order_by, settings),
      fmt::format(
          "CREATE TABLE IF NOT EXISTS {0}.{1} ON CLUSTER {2} AS {0}.{3} ENGINE = Distributed({2}, {0}, {3}, {4})", db,
          t.name, config.cluster, local, t.shard_by),
  };
}

std::string CreateDatabase(const ClickHouseConfig& config) {
  return config.cluster.empty()
             ? "CREATE DATABASE IF NOT EXISTS " + config.database
             : fmt::format("CREATE DATABASE IF NOT EXISTS {} ON CLUSTER {}", config.database, config.cluster);
}

namespace {

constexpr int kReplicaIsAlreadyExists = 253;

}  // namespace

Result<bool> TableExists(ClickHouseClient& client, const std::string& table) {
  auto body = client.Query(fmt::format("SELECT count() FROM system.tables WHERE database = {} AND name = {} "
                                       "FORMAT TabSeparated",
                                       QuoteString(client.config().database), QuoteString(table)),
                           false);
  if (!body.ok()) return body.status();
  return body->rfind('0', 0) != 0;
}

Status EnsureTable(ClickHouseClient& client, Retrier& retrier, std::string_view what, const TableSpec& table) {
  constexpr std::string_view kCreate = "CREATE";
  for (const std::string& sql : CreateTable(table, client.config())) {
    Status st = RetriedQuery(client, retrier, what, sql).status();
    if (st.ok()) continue;
    if (client.last_error_code() != kReplicaIsAlreadyExists) return st;
    spdlog::warn(
        "{}: {}: a replica of {} is registered in ZooKeeper without its table (a CREATE cut short by a "
        "failure); attaching it: {}",
        client.config().Describe(), what, table.name, st.message());
    SAGAFLOW_RETURN_IF_ERROR(RetriedQuery(client, retrier, what, "ATTACH" + sql.substr(kCreate.size())).status());
    // Now a no-op on every node, or the error that remains.
    SAGAFLOW_RETURN_IF_ERROR(RetriedQuery(client, retrier, what, sql).status());
  }
  return Status::Ok();
}

Result<ClickHouseClient::Settings> ClusterWriteSettings(ClickHouseClient& client) {
  const ClickHouseConfig& config = client.config();
  if (config.cluster.empty()) return ClickHouseClient::Settings{};
  auto body = client.Query(fmt::format("SELECT shard_num, count() FROM system.clusters WHERE cluster = {} GROUP BY "
                                       "shard_num FORMAT TabSeparated",
                                       QuoteString(config.cluster)),
                           /*use_database=*/false);
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 2);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return Status::InvalidArgument(
        fmt::format("{}: the server has no cluster \"{}\" in its remote_servers", config.Describe(), config.cluster));
  }
  uint64_t replicas = UINT64_MAX;
  for (const auto& r : *rows) {
    auto n = ParseUint(r[1], "a replica count");
    if (!n.ok()) return n.status();
    replicas = std::min(replicas, *n);
  }
  const uint64_t quorum = config.insert_quorum > 0 ? static_cast<uint64_t>(config.insert_quorum) : replicas / 2 + 1;
  if (quorum > replicas) {
    return Status::InvalidArgument(fmt::format("{}: insert_quorum={} but a shard of cluster {} has {} replica{}",
                                               config.Describe(), quorum, config.cluster, replicas,
                                               replicas == 1 ? "" : "s"));
  }
  // Below the request timeout, so that the server reports a quorum it could
  // not reach (retriable) before the client gives up on the request.
  const auto half = config.timeout.count() / 2;
  ClickHouseClient::Settings s = {
      {"insert_distributed_sync", "1"},
      {"distributed_ddl_task_timeout", std::to_string(std::max<int64_t>(1, half / 1000))},
  };
  if (quorum >= 2) {
    s.insert(s.end(), {{"insert_quorum", std::to_string(quorum)},
                       {"insert_quorum_timeout", std::to_string(half)},
                       {"select_sequential_consistency", "1"}});
  } else {
    s.emplace_back("load_balancing", "in_order");
  }
  return s;
}

Status CheckLayout(ClickHouseClient& client) {
  const ClickHouseConfig& config = client.config();
  auto body = client.Query(fmt::format("SELECT engine FROM system.tables WHERE database = {} AND name = 'fact_event' "
                                       "FORMAT TabSeparated",
                                       QuoteString(config.database)),
                           /*use_database=*/false);
  if (!body.ok()) return body.status();
  const bool distributed = body->rfind("Distributed", 0) == 0;
  if (distributed && config.cluster.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}: the database is a cluster store (Distributed tables): name its cluster in the store URI "
                    "(?cluster=NAME) so that inserts are synchronous and reach their quorum",
                    config.Describe()));
  }
  if (!distributed && !config.cluster.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{}: the database was created on this server alone (no Distributed tables); a store cannot become a "
        "cluster store in place: use a new database (docs/clickhouse.md, \"Replicated and sharded\")",
        config.Describe()));
  }
  return Status::Ok();
}

}  // namespace sagaflow::sinks::clickhouse
