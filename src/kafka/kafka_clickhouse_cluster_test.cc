// Kafka in, a replicated and sharded ClickHouse out (docs/clickhouse.md,
// "Replicated and sharded"): the ctest fixture runs ZooKeeper and 2 shards x
// 2 replicas of clickhouse-server 18.16 (scripts/clickhouse-test-cluster;
// its directory in SAGAFLOW_CLICKHOUSE_CLUSTER_DIR). Two `sagaflow run`
// consumers of one group write the shared-corpus events through different
// nodes while one of those nodes (a replica) is SIGKILLed and restarted and
// ZooKeeper is killed and restarted; afterwards every query, through any node, answers
// exactly what the file run into SQLite answers, each stream's rows are on
// one shard, and both replicas of each shard hold the same rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "kafka/kafka_e2e_testing.h"
#include "sinks/clickhouse/clickhouse_analytics.h"
#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/clickhouse_config.h"
#include "sinks/clickhouse/clickhouse_sink.h"
#include "sinks/clickhouse/clickhouse_testing.h"
#include "sinks/clickhouse/cluster.h"
#include "sinks/clickhouse/migrations.h"
#include "sinks/store_testing.h"

namespace sagaflow::kafka::testing {
namespace {

namespace ch = sinks::clickhouse;

// HTTP addresses of s1r1, s1r2, s2r1, s2r2, or none without the fixture.
std::vector<std::string> ClusterAddresses() {
  const char* dir = std::getenv("SAGAFLOW_CLICKHOUSE_CLUSTER_DIR");
  std::vector<std::string> out;
  if (!dir || !*dir) return out;
  std::ifstream in(std::string(dir) + "/addresses");
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out.size() == 4 ? out : std::vector<std::string>{};
}

// scripts/clickhouse-test-cluster COMMAND DIR NODE.
int Cluster(const std::string& command, const std::string& node) {
  const std::string script = ::sagaflow::testing::SourceDir() + "/scripts/clickhouse-test-cluster";
  return std::system((Quote(script) + " " + command + " " + Quote(std::getenv("SAGAFLOW_CLICKHOUSE_CLUSTER_DIR")) +
                      " " + node + " >/dev/null")
                         .c_str());
}

// A query on one node alone (its local tables), as TabSeparated text.
std::string Local(const std::string& address, const std::string& database, const std::string& sql) {
  auto config = ch::ParseClickHouseUri("clickhouse://" + address + "/" + database);
  EXPECT_TRUE(config.ok());
  auto client = ch::ClickHouseClient::Create(*config);
  EXPECT_TRUE(client.ok());
  auto r = (*client)->Query(sql.rfind("SELECT", 0) == 0 ? sql + " FORMAT TabSeparated" : sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() ? *r : "";
}

#define SAGAFLOW_REQUIRE_CLUSTER(var)                                                                         \
  const std::vector<std::string> var = ClusterAddresses();                                                    \
  if ((var).empty()) {                                                                                        \
    if (::sagaflow::testing::InCi()) FAIL() << "no ClickHouse test cluster under CI=true";                    \
    GTEST_SKIP() << "no ClickHouse test cluster (run through ctest, or set SAGAFLOW_CLICKHOUSE_CLUSTER_DIR)"; \
  }

using KafkaClusterTest = KafkaEndToEndTest;

TEST_F(KafkaClusterTest, SurvivesAReplicaAndZooKeeperRestartAnsweringEveryQueryAsSqlite) {
  SAGAFLOW_REQUIRE_CLUSTER(nodes);
  const std::string db = ch::testing::UniqueDatabase();
  // Each consumer knows two nodes and sends its requests to the second when
  // the first fails.
  auto store = [&](int first, int second) {
    return "clickhouse://" + nodes[first] + "," + nodes[second] + "/" + db + "?cluster=sagaflow";
  };
  StartBroker();
  auto producer = StartProducer(150);  // ~15 s of events
  // Through different entry nodes: each Distributed insert reaches both
  // shards whichever node takes it.
  auto a = StartConsumer("cluster", store(0, 3), "a", 15);
  auto b = StartConsumer("cluster", store(2, 1), "b", 15);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  // Consumer a's entry node, a replica of shard 1: a moves to s2r2; with the
  // default quorum (2 of 2) no insert into shard 1 is acknowledged while it
  // is down, and every acknowledged one is on it once it is back.
  ASSERT_EQ(Cluster("kill", "s1r1"), 0);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ASSERT_EQ(Cluster("restart", "s1r1"), 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_EQ(Cluster("kill", "zookeeper"), 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(Cluster("restart", "zookeeper"), 0);
  ASSERT_EQ(producer->Wait(), 0) << ReadFile(Path("produce.log"));
  ExpectClean(*a, "a");
  ExpectClean(*b, "b");
  ExpectNothingTrimmed();
  EXPECT_EQ(CommittedOffsets(brokers_, "events", kPartitions, "cluster"), EndOffsets(brokers_, "events", kPartitions));
  // The faults were felt: a write waited for the quorum or for ZooKeeper.
  const std::string logs = ReadFile(Path("a.log")) + ReadFile(Path("b.log"));
  EXPECT_NE(logs.find("retries over"), std::string::npos) << logs;

  // Queries read the Distributed tables; the killed replica answers too.
  EXPECT_EQ(Answers("clickhouse://" + nodes[0] + "/" + db), ref_->answers);
  EXPECT_EQ(Answers("clickhouse://" + nodes[3] + "/" + db), ref_->answers);

  // Each stream on one shard; both replicas of a shard hold the same rows
  // (SYNC REPLICA: a replica may still be fetching parts merged meanwhile).
  std::map<std::string, std::set<std::string>> shards_of;
  for (int node : {0, 1, 2, 3}) {
    Local(nodes[node], db, "SYSTEM SYNC REPLICA fact_event_local");
    Local(nodes[node], db, "SYSTEM SYNC REPLICA fact_readers_local");
    Local(nodes[node], db, "SYSTEM SYNC REPLICA rollup_days_local");
  }
  for (size_t shard : {0U, 1U}) {
    for (const char* sql :
         {"SELECT count(), uniqExact(source_id, position, entity_id) FROM fact_readers_local",
          "SELECT count(), uniqExact(saga_id, day, entity_id, source_id, upto) FROM rollup_days_local"}) {
      EXPECT_EQ(Local(nodes[2 * shard + 1], db, sql), Local(nodes[2 * shard], db, sql))
          << "shard " << shard + 1 << "'s replicas differ: " << sql;
    }
    const std::string per_stream =
        "SELECT source_id, count(), uniqExact(position) FROM fact_event_local GROUP BY source_id ORDER BY source_id";
    const std::string first = Local(nodes[2 * shard], db, per_stream);
    EXPECT_EQ(Local(nodes[2 * shard + 1], db, per_stream), first) << "shard " << shard + 1 << "'s replicas differ";
    std::istringstream rows(first);
    for (std::string source, rest; rows >> source && std::getline(rows, rest);) {
      shards_of[source].insert(std::to_string(shard));
    }
  }
  EXPECT_EQ(shards_of.size(), static_cast<size_t>(kPartitions));
  std::set<std::string> used;
  for (const auto& [source, shards] : shards_of) {
    EXPECT_EQ(shards.size(), 1u) << "stream " << source << " is on both shards";
    used.insert(shards.begin(), shards.end());
  }
  EXPECT_EQ(used.size(), 2u) << "8 partitions all on one shard";
}

// The store's address and the server's configuration must agree.
TEST(ClickHouseCluster, RefusesAnUnknownClusterAQuorumAboveTheReplicasAndAMismatchedLayout) {
  SAGAFLOW_REQUIRE_CLUSTER(nodes);
  const std::string db = ch::testing::UniqueDatabase();
  auto prepare = [&](const std::string& options) {
    auto config = ch::ParseClickHouseUri("clickhouse://" + nodes[0] + "/" + db + options);
    EXPECT_TRUE(config.ok()) << options;
    auto sink = ch::ClickHouseSink::Open(*config);
    EXPECT_TRUE(sink.ok());
    return (*sink)->Prepare(pipeline::Dimensions{});
  };
  Status st = prepare("?cluster=nowhere");
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.ToString().find("no cluster \"nowhere\""), std::string::npos) << st.ToString();
  st = prepare("?cluster=sagaflow&insert_quorum=3");
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.ToString().find("has 2 replicas"), std::string::npos) << st.ToString();
  ASSERT_TRUE(prepare("?cluster=sagaflow&insert_quorum=1").ok());
  // The same database without the cluster: its writes would be neither
  // synchronous nor quorum writes.
  st = prepare("");
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.ToString().find("cluster store"), std::string::npos) << st.ToString();
  // And a database of one server's plain tables named with the cluster.
  auto single = ch::ParseClickHouseUri("clickhouse://" + nodes[0] + "/" + db.substr(0, 50) + "_single");
  ASSERT_TRUE(single.ok());
  auto sink = ch::ClickHouseSink::Open(*single);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Prepare(pipeline::Dimensions{}).ok());
  single->cluster = "sagaflow";
  sink = ch::ClickHouseSink::Open(*single);
  ASSERT_TRUE(sink.ok());
  st = (*sink)->Prepare(pipeline::Dimensions{});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.ToString().find("on this server alone"), std::string::npos) << st.ToString();
}

// Every `run` migrates at start, so the consumers of one deployment migrate
// a new store at the same moment, each through its own entry node, and
// their ON CLUSTER statements meet in each node's DDL queue: all must
// succeed and leave the whole schema on every node.
TEST(ClickHouseCluster, ConsumersMigratingANewStoreAtOnceAllSucceed) {
  SAGAFLOW_REQUIRE_CLUSTER(nodes);
  for (int round = 0; round < 3; ++round) {
    const std::string db = ch::testing::UniqueDatabase();
    std::vector<Status> results(nodes.size());
    std::vector<std::thread> migrations;
    for (size_t i = 0; i < nodes.size(); ++i) {
      migrations.emplace_back([&, i] {
        auto config = ch::ParseClickHouseUri("clickhouse://" + nodes[i] + "/" + db + "?cluster=sagaflow");
        auto sink = config.ok() ? ch::ClickHouseSink::Open(*config) : config.status();
        results[i] = sink.ok() ? (*sink)->Prepare(pipeline::Dimensions{}) : sink.status();
      });
    }
    for (auto& t : migrations) t.join();
    for (size_t i = 0; i < nodes.size(); ++i) {
      EXPECT_TRUE(results[i].ok()) << "round " << round << ", through " << nodes[i] << ": " << results[i].ToString();
    }
    const std::string tables = Local(
        nodes[0], db,
        "SELECT groupArray(name) FROM (SELECT name FROM system.tables WHERE database = '" + db + "' ORDER BY name)");
    EXPECT_NE(tables.find("fact_readers_local"), std::string::npos) << tables;
    for (const std::string& node : nodes) {
      EXPECT_EQ(Local(node, db,
                      "SELECT groupArray(name) FROM (SELECT name FROM system.tables WHERE database = '" + db +
                          "' ORDER BY name)"),
                tables)
          << node;
      EXPECT_EQ(Local(node, db, "SELECT max(version) FROM schema_version"),
                std::to_string(ch::LatestSchemaVersion()) + "\n")
          << node;
    }
  }
}

// A node or ZooKeeper failing in the middle of creating a replicated table
// can leave the node's replica registered in ZooKeeper without the table
// (the server writes the table's metadata after registering the replica),
// and every CREATE fails there from then on (REPLICA_IS_ALREADY_EXISTS).
// Made here as such a failure leaves it: fact_event_local created on s1r1
// alone with the migration's own statement, then detached and its metadata
// and data deleted. A migration through another node completes the schema on
// every node, and s1r1 replicates its shard's rows again.
TEST(ClickHouseCluster, AMigrationAttachesAReplicaLeftRegisteredWithoutItsTable) {
  SAGAFLOW_REQUIRE_CLUSTER(nodes);
  const std::string dir = std::getenv("SAGAFLOW_CLICKHOUSE_CLUSTER_DIR");
  const std::string db = ch::testing::UniqueDatabase();
  auto config = ch::ParseClickHouseUri("clickhouse://" + nodes[1] + "/" + db + "?cluster=sagaflow");
  ASSERT_TRUE(config.ok());
  const ch::TableSpec* fact_event = nullptr;
  for (const ch::TableSpec& t : ch::Migrations().front().tables) {
    if (std::string_view(t.name) == "fact_event") fact_event = &t;
  }
  ASSERT_NE(fact_event, nullptr);
  std::string create = ch::CreateTable(*fact_event, *config).front();
  create.replace(create.find(" ON CLUSTER sagaflow"), std::string_view(" ON CLUSTER sagaflow").size(), "");
  {
    auto s1r1 = ch::ParseClickHouseUri("clickhouse://" + nodes[0] + "/" + db);
    auto client = ch::ClickHouseClient::Create(*s1r1);
    ASSERT_TRUE(client.ok());
    for (const std::string& sql : {"CREATE DATABASE " + db, create, "DETACH TABLE " + db + ".fact_event_local"}) {
      auto r = (*client)->Query(sql, /*use_database=*/false);
      ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    }
  }
  std::filesystem::remove(dir + "/s1r1/data/metadata/" + db + "/fact_event_local.sql");
  std::filesystem::remove_all(dir + "/s1r1/data/data/" + db + "/fact_event_local");

  auto sink = ch::ClickHouseSink::Open(*config);
  ASSERT_TRUE(sink.ok());
  Status st = (*sink)->Prepare(pipeline::Dimensions{});
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (const std::string& node : nodes) {
    EXPECT_EQ(
        Local(node, db, "SELECT count() FROM system.tables WHERE database = '" + db + "' AND name LIKE '%_local'"),
        Local(nodes[3], db, "SELECT count() FROM system.tables WHERE database = '" + db + "' AND name LIKE '%_local'"))
        << node;
  }
  // A row written on the other replica of shard 1 reaches s1r1.
  Local(nodes[1], db, "INSERT INTO fact_event_local (source_id, position, article_id) VALUES (2, 7, 'attached')");
  Local(nodes[0], db, "SYSTEM SYNC REPLICA fact_event_local");
  EXPECT_EQ(Local(nodes[0], db, "SELECT article_id FROM fact_event_local"), "attached\n");
}

// With a replica of shard 1 down, an insert into shard 1 is not acknowledged
// under the default quorum (2 of 2) and is under insert_quorum=1; once the
// replica is back the same insert goes through, and the replica holds it.
TEST(ClickHouseCluster, AnInsertIsAcknowledgedOnlyOnceItsQuorumHoldsIt) {
  SAGAFLOW_REQUIRE_CLUSTER(nodes);
  const std::string db = ch::testing::UniqueDatabase();
  auto writer = [&](const std::string& options) {
    auto config =
        ch::ParseClickHouseUri("clickhouse://" + nodes[0] + "/" + db + "?cluster=sagaflow&timeout_ms=6000" + options);
    EXPECT_TRUE(config.ok()) << options;
    auto client = ch::ClickHouseClient::Create(*config);
    EXPECT_TRUE(client.ok());
    auto settings = ch::ClusterWriteSettings(**client);
    EXPECT_TRUE(settings.ok()) << settings.status().ToString();
    (*client)->SetRequestSettings(*settings);
    return std::move(*client);
  };
  {
    auto config = ch::ParseClickHouseUri("clickhouse://" + nodes[0] + "/" + db + "?cluster=sagaflow");
    auto sink = ch::ClickHouseSink::Open(*config);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Prepare(pipeline::Dimensions{}).ok());
  }
  // Distributed(..., source_id): an even id goes to the first shard (s1r1, s1r2).
  auto insert = [&](ch::ClickHouseClient& client, int source_id) {
    return client.Insert("INSERT INTO source (source_id, stream_key, position) FORMAT TabSeparated",
                         std::to_string(source_id) + "\tquorum-test\t7\n");
  };
  auto quorum = writer("");
  auto one = writer("&insert_quorum=1");
  ASSERT_EQ(Cluster("kill", "s1r2"), 0);
  Status st = insert(*quorum, 2);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << "acknowledged without its quorum: " << st.ToString();
  EXPECT_TRUE(insert(*one, 4).ok());
  ASSERT_EQ(Cluster("restart", "s1r2"), 0);
  // The replica registers again once its killed session expired (6 s).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!(st = insert(*quorum, 2)).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_TRUE(st.ok()) << st.ToString();
  Local(nodes[1], db, "SYSTEM SYNC REPLICA source_local");
  EXPECT_EQ(Local(nodes[1], db, "SELECT source_id FROM source_local ORDER BY source_id"), "2\n4\n");
}

// Migration 3 on a cluster (rebuild.h): the replicated local tables are
// rebuilt ON CLUSTER behind the same Distributed tables, back to their
// version-2 sorting keys and forward again, and every shard keeps its rows,
// both replicas the same, every answer that of the reference.
TEST(ClickHouseCluster, MigrationThreeRebuildsTheLocalTablesOfEveryNode) {
  SAGAFLOW_REQUIRE_CLUSTER(nodes);
  const std::string db = ch::testing::UniqueDatabase();
  auto config = ch::ParseClickHouseUri("clickhouse://" + nodes[0] + "/" + db + "?cluster=sagaflow");
  ASSERT_TRUE(config.ok());
  const pipeline::Dimensions dims = sinks::testing::TestDimensions();
  sinks::testing::ReferenceAnalytics reference(dims);
  {
    auto sink = ch::ClickHouseSink::Open(*config);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Prepare(dims).ok());
    for (const pipeline::Batch& b : sinks::testing::RandomHistory(31, 6, 3, 60)) {
      auto r = (*sink)->Write(b);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      reference.Write(b);
    }
  }
  auto client = ch::ClickHouseClient::Create(*config);
  ASSERT_TRUE(client.ok());
  auto settings = ch::ClusterWriteSettings(**client);
  ASSERT_TRUE(settings.ok());
  (*client)->SetRequestSettings(*settings);
  ch::Retrier retrier(config->retry, "rebuild");
  auto counts = [&](const ch::Rebuild& r) {
    std::string out;
    for (const std::string& node : nodes) {
      Local(node, db, "SYSTEM SYNC REPLICA " + std::string(r.table.name) + "_local");
      out += Local(node, db, "SELECT count() FROM " + std::string(r.table.name) + "_local");
    }
    return out;
  };
  std::map<std::string, std::string> before;
  for (const ch::Rebuild& r : ch::SortingKeyRebuilds()) before[r.table.name] = counts(r);
  for (const auto& [layouts, version] : {std::pair{ch::Version2Layouts(), 2}, {ch::SortingKeyRebuilds(), 3}}) {
    for (const ch::Rebuild& r : layouts) {
      Status st = ch::RebuildTable(**client, retrier, r, version);
      ASSERT_TRUE(st.ok()) << st.ToString();
      for (const std::string& node : nodes) {
        std::string key =
            Local(node, db,
                  "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = '" +
                      std::string(r.table.name) + "_local'");
        EXPECT_EQ("(" + key.substr(0, key.size() - 1) + ")", r.table.order_by) << node;
        EXPECT_EQ(Local(node, db,
                        "SELECT count() FROM system.tables WHERE database = currentDatabase() AND "
                        "match(name, '_v[0-9]+(_local)?$')"),
                  "0\n")
            << node;
      }
      // Every node (s1r1, s1r2, s2r1, s2r2) as many rows as before: the
      // two replicas of each shard the same.
      const std::string now = counts(r);
      EXPECT_EQ(now, before[r.table.name]) << r.table.name;
      std::vector<std::string> lines;
      for (size_t at = 0, end; (end = now.find('\n', at)) != std::string::npos; at = end + 1) {
        lines.push_back(now.substr(at, end - at));
      }
      ASSERT_EQ(lines.size(), 4U) << now;
      EXPECT_EQ(lines[0], lines[1]) << now;
      EXPECT_EQ(lines[2], lines[3]) << now;
    }
  }
  auto analytics = ch::ClickHouseAnalytics::Open(*config);
  ASSERT_TRUE(analytics.ok()) << analytics.status().ToString();
  EXPECT_GT(sinks::testing::ExpectSameAnswers(**analytics, reference, 4, sinks::testing::Coverage::kTotals), 80);
}

}  // namespace
}  // namespace sagaflow::kafka::testing
