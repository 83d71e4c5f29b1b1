// The ClickHouse layer without a server: SQL quoting and TabSeparated
// escaping, store URI parsing, error classification, backoff bounds, time
// windows, and the retry loop against a scripted HTTP responder.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include "sinks/clickhouse/clickhouse_analytics.h"
#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/clickhouse_config.h"
#include "sinks/clickhouse/cluster.h"
#include "sinks/clickhouse/migrations.h"
#include "sinks/clickhouse/retry.h"
#include "sinks/clickhouse/sql.h"

namespace sagaflow::sinks::clickhouse {
namespace {

// Strings that break naive SQL or TSV writers.
const std::vector<std::string>& HostileStrings() {
  static const std::vector<std::string> kAll = {
      "",
      "plain",
      "tab\there",
      "new\nline",
      "carriage\rreturn",
      "back\\slash",
      "trailing backslash\\",
      "quote ' single",
      "quote \" double",
      "\\'",
      "'; DROP TABLE fact_event; --",
      "x' OR '1'='1",
      "\\x41\\n literal escapes",
      "\b\f\a\v\x01\x1f\x7f controls",
      "Éowyn Dúnedain Ἀχιλλεύς 🐉",
      std::string("\xff\xfe not UTF-8", 12),
      "`backtick` {name:String} ?",
  };
  return kAll;
}

TEST(ClickHouseSql, QuoteStringEscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(QuoteString("abc"), "'abc'");
  EXPECT_EQ(QuoteString("it's"), "'it\\'s'");
  EXPECT_EQ(QuoteString("a\\b"), "'a\\\\b'");
  EXPECT_EQ(QuoteString("a\tb\nc"), "'a\\tb\\nc'");
  EXPECT_EQ(QuoteString(std::string("a\0b", 3)), "'a\\0b'");
  for (const auto& s : HostileStrings()) {
    std::string q = QuoteString(s);
    // Inside the quotes, every quote is escaped: the literal cannot end early.
    for (size_t i = 1; i + 1 < q.size(); ++i) {
      if (q[i] == '\\') {
        ++i;
        continue;
      }
      EXPECT_NE(q[i], '\'') << q;
    }
  }
}

TEST(ClickHouseSql, TsvFieldsRoundTrip) {
  std::string data;
  TsvRows rows(&data);
  for (const std::string& s : HostileStrings()) rows.Text(s);
  EXPECT_EQ(data.find('\n'), std::string::npos);
  rows.EndRow();
  rows.Uint(18446744073709551615u).Int(-9223372036854775807 - 1).Text("").EndRow();
  EXPECT_EQ(rows.rows(), 2u);
  const size_t first_row = data.find('\n') + 1;
  EXPECT_EQ(data.substr(first_row), "18446744073709551615\t-9223372036854775808\t\n");
  auto parsed = ParseTsv(data.substr(0, first_row), HostileStrings().size());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0], HostileStrings());
}

TEST(ClickHouseSql, ParseTsvUnescapesClickHouseOutput) {
  // As ClickHouse writes them: \' for quotes, \\ for backslashes.
  auto rows = ParseTsv("a\\'b\\\\c\t1\n\\x41\\n\t\n", 2);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][0], "a'b\\c");
  EXPECT_EQ((*rows)[1][0], "A\n");
  EXPECT_EQ((*rows)[1][1], "");
  EXPECT_FALSE(ParseTsv("a\tb\n", 3).ok());
  EXPECT_TRUE(ParseTsv("", 3)->empty());
}

// Against ParseTsv + ParseUint on random bodies, then every malformed line.
TEST(ClickHouseSql, ForEachUintRowReadsWhatParseTsvReads) {
  std::mt19937_64 rng(5);
  for (int n = 0; n < 200; ++n) {
    const size_t columns = 1 + rng() % 9;
    std::string body;
    for (uint64_t r = rng() % 20; r > 0; --r) {
      for (size_t c = 0; c < columns; ++c) body += (c ? "\t" : "") + std::to_string(rng() >> (rng() % 64));
      body += "\n";
    }
    std::vector<std::vector<uint64_t>> got;
    ASSERT_TRUE(ForEachUintRow(body, columns, "test", [&](const uint64_t* v) {
                  got.emplace_back(v, v + columns);
                  return Status::Ok();
                }).ok());
    auto want = ParseTsv(body, columns);
    ASSERT_TRUE(want.ok());
    ASSERT_EQ(got.size(), want->size());
    for (size_t r = 0; r < got.size(); ++r) {
      for (size_t c = 0; c < columns; ++c) EXPECT_EQ(std::to_string(got[r][c]), (*want)[r][c]);
    }
  }
  auto none = [](const uint64_t*) { return Status::Ok(); };
  EXPECT_TRUE(ForEachUintRow("", 3, "test", none).ok());
  EXPECT_TRUE(ForEachUintRow("1\t2\n3\t4", 2, "test", none).ok());  // no final newline
  for (const char* bad :
       {"1\t2\n3\n", "1\t2\t3\n", "1\tx\n", "1\t-2\n", "1\t\n", "\n", "1\t2\n\n", "18446744073709551616\t1\n"}) {
    Status st = ForEachUintRow(bad, 2, "test rows", none);
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << bad;
    EXPECT_NE(st.ToString().find("test rows"), std::string::npos) << st.ToString();
  }
  // The callback's error ends the walk.
  int calls = 0;
  Status st = ForEachUintRow("1\n2\n3\n", 1, "test", [&](const uint64_t*) {
    return ++calls == 2 ? Status::InvalidArgument("stop") : Status::Ok();
  });
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(calls, 2);
}

TEST(ClickHouseSql, IdentifiersAndIntegers) {
  EXPECT_TRUE(IsPlainIdentifier("sagaflow"));
  EXPECT_TRUE(IsPlainIdentifier("_db_2"));
  for (const char* bad : {"", "2db", "a-b", "a b", "a`b", "a;DROP", "a.b", "é"}) {
    EXPECT_FALSE(IsPlainIdentifier(bad)) << bad;
  }
  EXPECT_FALSE(IsPlainIdentifier(std::string(65, 'a')));
  EXPECT_EQ(*ParseInt("-12", "x"), -12);
  EXPECT_EQ(*ParseUint("18446744073709551615", "x"), UINT64_MAX);
  EXPECT_FALSE(ParseInt("1x", "x").ok());
  EXPECT_FALSE(ParseUint("", "x").ok());
  EXPECT_FALSE(ParseUint("-1", "x").ok());
}

TEST(ClickHouseConfig, ParsesHostPortDatabaseAndOptions) {
  auto c = ParseClickHouseUri("clickhouse://ch.example:9123/analytics?timeout_ms=1500&retry_give_up_s=7&secure=1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "ch.example");
  EXPECT_EQ(c->port, 9123);
  EXPECT_EQ(c->database, "analytics");
  EXPECT_EQ(c->user, "default");
  EXPECT_EQ(c->password, "");
  EXPECT_EQ(c->timeout.count(), 1500);
  EXPECT_EQ(c->retry.give_up_after.count(), 7);
  EXPECT_EQ(c->BaseUrl(), "https://ch.example:9123/");

  auto d = ParseClickHouseUri("clickhouse://[::1]/db/");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->host, "[::1]");
  EXPECT_EQ(d->port, 8123);
  EXPECT_EQ(d->BaseUrl(), "http://[::1]:8123/");
}

TEST(ClickHouseConfig, CredentialsComeFromFlagsThenUserinfo) {
  auto c = ParseClickHouseUri("clickhouse://alice:p%40ss%3Aword@h/db");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "p@ss:word");
  // The description never shows the password.
  EXPECT_EQ(c->Describe(), "clickhouse://alice@h:8123/db");

  auto f = ParseClickHouseUri("clickhouse://alice:pw@h/db", Credentials{"bob", "secret"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->user, "bob");
  EXPECT_EQ(f->password, "secret");
  auto g = ParseClickHouseUri("clickhouse://h/db", Credentials{"", "only-password"});
  EXPECT_EQ(g->user, "default");
  EXPECT_EQ(g->password, "only-password");
}

TEST(ClickHouseConfig, RejectsMalformedUris) {
  for (const char* bad :
       {"sqlite:x.db", "clickhouse://", "clickhouse://host", "clickhouse://host/", "clickhouse://host/db-name",
        "clickhouse://host/db;drop", "clickhouse://host:0/db", "clickhouse://host:99999/db", "clickhouse://host:abc/db",
        "clickhouse://ho st/db", "clickhouse://host/db?nope=1", "clickhouse://host/db?timeout_ms=-5",
        "clickhouse://host/db?secure", "clickhouse://u:p%zz@host/db", "clickhouse://[::1/db"}) {
    auto c = ParseClickHouseUri(bad);
    EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  // A refused URI never echoes its password.
  auto c = ParseClickHouseUri("clickhouse://u:topsecret@host/bad-db");
  EXPECT_EQ(c.status().message().find("topsecret"), std::string::npos) << c.status().message();
}

TEST(ClickHouseConfig, ClusterAndQuorumOptions) {
  auto c = ParseClickHouseUri("clickhouse://ch:8123/db?cluster=prod_2x3&insert_quorum=2");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->cluster, "prod_2x3");
  EXPECT_EQ(c->insert_quorum, 2);
  EXPECT_EQ(c->Describe(), "clickhouse://default@ch:8123/db?cluster=prod_2x3");
  auto single = ParseClickHouseUri("clickhouse://ch:8123/db");
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(single->cluster.empty());  // one server is the default
  EXPECT_EQ(single->insert_quorum, 0);
  auto nodes = ParseClickHouseUri("clickhouses://u:pw@ch1:9440,ch2,[::1]:8125/db?cluster=c");
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->NodeCount(), 3u);
  EXPECT_EQ(nodes->BaseUrl(0), "https://ch1:9440/");
  EXPECT_EQ(nodes->BaseUrl(1), "https://ch2:8443/");
  EXPECT_EQ(nodes->BaseUrl(2), "https://[::1]:8125/");
  EXPECT_EQ(nodes->Describe(), "clickhouses://u@ch1:9440,ch2:8443,[::1]:8125/db?cluster=c");
  for (const char* bad :
       {"clickhouse://ch/db?cluster=a-b", "clickhouse://ch/db?cluster=", "clickhouse://ch/db?cluster=x;y",
        "clickhouse://ch/db?cluster=c&insert_quorum=0", "clickhouse://ch/db?insert_quorum=2", "clickhouse://ch1,ch2/db",
        "clickhouse://ch1,/db?cluster=c", "clickhouse://ch1,ch2:x/db?cluster=c"}) {
    EXPECT_EQ(ParseClickHouseUri(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

TEST(ClickHouseCluster, TablesAreReplicatedLocalTablesBehindDistributedOnesOnACluster) {
  const TableSpec t{
      "fact_event", "source_id UInt64,\n  position UInt64", "ReplacingMergeTree", "", "(source_id, position)",
      "source_id"};
  auto single = ParseClickHouseUri("clickhouse://ch/db");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(
      CreateTable(t, *single),
      std::vector<std::string>{"CREATE TABLE IF NOT EXISTS fact_event (\n  source_id UInt64,\n  position UInt64\n) "
                               "ENGINE = ReplacingMergeTree ORDER BY (source_id, position)"});
  EXPECT_EQ(CreateDatabase(*single), "CREATE DATABASE IF NOT EXISTS db");
  auto cluster = ParseClickHouseUri("clickhouse://ch/db?cluster=c1");
  ASSERT_TRUE(cluster.ok());
  const auto sql = CreateTable(t, *cluster);
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[0],
            "CREATE TABLE IF NOT EXISTS db.fact_event_local ON CLUSTER c1 (\n  source_id UInt64,\n  position UInt64\n) "
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/fact_event_local', '{replica}') "
            "ORDER BY (source_id, position)");
  EXPECT_EQ(
      sql[1],
      "CREATE TABLE IF NOT EXISTS db.fact_event ON CLUSTER c1 AS db.fact_event_local ENGINE = Distributed(c1, db, "
      "fact_event_local, source_id)");
  const TableSpec versioned{
      "source", "source_id UInt64, position UInt64", "ReplacingMergeTree", "position", "source_id", "source_id"};
  EXPECT_NE(
      CreateTable(versioned, *cluster)[0].find("('/clickhouse/tables/{shard}/db/source_local', '{replica}', position)"),
      std::string::npos);
  EXPECT_EQ(CreateDatabase(*cluster), "CREATE DATABASE IF NOT EXISTS db ON CLUSTER c1");
  // A table's SETTINGS follow its sorting key, on one server and on the
  // cluster's local table (the Distributed one has none).
  TableSpec tuned = versioned;
  tuned.settings = "index_granularity = 256";
  EXPECT_NE(CreateTable(tuned, ClickHouseConfig{})[0].find("ORDER BY source_id SETTINGS index_granularity = 256"),
            std::string::npos);
  const auto tuned_sql = CreateTable(tuned, *cluster);
  EXPECT_NE(tuned_sql[0].find("ORDER BY source_id SETTINGS index_granularity = 256"), std::string::npos)
      << tuned_sql[0];
  EXPECT_EQ(tuned_sql[1].find("SETTINGS"), std::string::npos) << tuned_sql[1];
  // Every table of every migration shards by something (the stream for
  // facts, checkpoints and rollups: one Kafka partition, one shard).
  std::vector<TableSpec> tables;
  for (const Migration& m : Migrations()) tables.insert(tables.end(), m.tables.begin(), m.tables.end());
  for (const Rebuild& r : SortingKeyRebuilds()) tables.push_back(r.table);
  for (const TableSpec& table : tables) {
    const std::string name = table.name;
    const bool by_stream =
        name.rfind("fact_", 0) == 0 || name.rfind("rollup_", 0) == 0 || name == "source" || name == "dead_letter";
    EXPECT_EQ(std::string(table.shard_by) == "source_id", by_stream) << name;
  }
}

TEST(ClickHouseErrors, CodeComesFromTheBodyOrTheHeader) {
  EXPECT_EQ(ErrorCodeOf("Code: 62, e.displayText() = DB::Exception: Syntax error"), 62);            // 18.16
  EXPECT_EQ(ErrorCodeOf("Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)"), 252);  // 23.x
  EXPECT_EQ(ErrorCodeOf("Code: 241. DB::Exception: Memory limit exceeded", "241"), 241);
  EXPECT_EQ(ErrorCodeOf("<html>502 Bad Gateway</html>"), 0);
  EXPECT_EQ(ErrorCodeOf("anything", "159"), 159);
  EXPECT_EQ(ErrorCodeOf("Code: x"), 0);
}

TEST(ClickHouseErrors, TransientCodesAreRetriableOthersAreNot) {
  for (int code : {159, 202, 209, 210, 241, 252, 319, 425}) EXPECT_TRUE(IsRetriableErrorCode(code)) << code;
  // syntax, type mismatch, unknown table/database/column, auth, bad data
  for (int code : {62, 53, 60, 81, 16, 47, 193, 516, 27, 6, 117, 0}) EXPECT_FALSE(IsRetriableErrorCode(code)) << code;
}

TEST(ClickHouseRetry, BackoffGrowsExponentiallyUpToTheCapWithJitter) {
  RetryPolicy p;
  p.initial = std::chrono::milliseconds(100);
  p.max = std::chrono::milliseconds(3000);
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    for (uint32_t attempt = 1; attempt < 40; ++attempt) {
      int64_t full = std::min<int64_t>(3000, int64_t{100} << std::min<uint32_t>(attempt - 1, 20));
      int64_t w = Backoff(p, attempt, rng).count();
      ASSERT_GE(w, full / 2) << attempt;
      ASSERT_LE(w, full) << attempt;
    }
  }
}

TEST(ClickHouseTimeWindow, ClampsToStoredTimesAndIncludesBothEnds) {
  EXPECT_EQ(TimeCondition({}), "time >= 0 AND time <= 4294967295");
  EXPECT_EQ(TimeCondition({10, 20}), "time >= 10 AND time <= 20");
  EXPECT_EQ(TimeCondition({-50, 20}), "time >= 0 AND time <= 20");
  EXPECT_EQ(TimeCondition({5000000000, std::nullopt}), "0");
  EXPECT_EQ(TimeCondition({std::nullopt, -1}), "0");
}

// A scripted HTTP server: answers each request with the next canned
// response (status line and body), then closes the connection.
class CannedServer {
 public:
  explicit CannedServer(std::vector<std::pair<int, std::string>> responses) : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    for (const auto& [status, body] : responses_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      // Read the headers and the announced body.
      std::string in;
      char buf[4096];
      size_t need = std::string::npos;
      while (need == std::string::npos || in.size() < need) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          size_t cl = in.find("Content-Length: ");
          size_t length = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
          need = end + 4 + length;
        }
      }
      ++requests_;
      std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nConnection: close\r\n\r\n" + body;
      (void)!::write(c, out.data(), out.size());
      ::close(c);
    }
  }
  std::vector<std::pair<int, std::string>> responses_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

ClickHouseConfig ConfigFor(int port) {
  auto c = ParseClickHouseUri("clickhouse://127.0.0.1:" + std::to_string(port) +
                              "/db?retry_initial_ms=1&retry_max_ms=5&timeout_ms=5000");
  EXPECT_TRUE(c.ok());
  return *c;
}

TEST(ClickHouseRetry, RetriesTransientErrorsUntilTheyClear) {
  // 500 with a retriable code, 503 from a proxy, then success.
  CannedServer server({{500, "Code: 252, e.displayText() = DB::Exception: Too many parts (300)"},
                       {503, "Service Unavailable"},
                       {500, "Code: 241. DB::Exception: Memory limit (total) exceeded"},
                       {200, ""}});
  auto client = ClickHouseClient::Create(ConfigFor(server.port()));
  ASSERT_TRUE(client.ok());
  Retrier retrier(ConfigFor(server.port()).retry, "test");
  Status st = retrier.Run("insert", [&] { return (*client)->Insert("INSERT INTO t FORMAT TabSeparated", "1\n"); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(server.requests(), 4);
  EXPECT_EQ(retrier.stats().retries.load(), 3u);
  EXPECT_EQ(retrier.stats().outages.load(), 1u);
}

TEST(ClickHouseRetry, NonRetriableErrorsFailAtOnceWhateverTheHttpStatus) {
  // An HTTP 500 whose code says the statement itself is wrong.
  CannedServer server({{500, "Code: 53, e.displayText() = DB::Exception: Type mismatch"}, {200, ""}});
  auto client = ClickHouseClient::Create(ConfigFor(server.port()));
  Retrier retrier(ConfigFor(server.port()).retry, "test");
  Status st = retrier.Run("insert", [&] { return (*client)->Insert("INSERT INTO t FORMAT TabSeparated", "x\n"); });
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("error 53"), std::string::npos) << st.message();
  EXPECT_EQ((*client)->last_error_code(), 53);
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(retrier.stats().retries.load(), 0u);
  EXPECT_EQ(retrier.stats().not_retriable.load(), 1u);
}

TEST(ClickHouseRetry, UnreachableServerIsRetriableAndGivesUpWhenTold) {
  int port;
  {
    CannedServer closed({});  // binds a free port, then closes it
    port = closed.port();
  }
  auto c = ParseClickHouseUri("clickhouse://127.0.0.1:" + std::to_string(port) +
                              "/db?retry_initial_ms=10&retry_max_ms=50&retry_give_up_s=1");
  auto client = ClickHouseClient::Create(*c);
  Retrier retrier(c->retry, "test");
  auto start = std::chrono::steady_clock::now();
  Status st = retrier.Run("query", [&] {
    auto r = (*client)->Query("SELECT 1");
    return r.ok() ? Status::Ok() : r.status();
  });
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("gave up"), std::string::npos);
  EXPECT_GE(retrier.stats().retries.load(), 5u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(ClickHouseRetry, AClusterNodeThatIsDownHandsTheRequestsToTheNext) {
  int down;
  {
    CannedServer closed({});
    down = closed.port();
  }
  CannedServer up({{200, "1\n"}, {200, "2\n"}});
  auto c = ParseClickHouseUri("clickhouse://127.0.0.1:" + std::to_string(down) +
                              ",127.0.0.1:" + std::to_string(up.port()) + "/db?cluster=c&retry_initial_ms=10");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto client = ClickHouseClient::Create(*c);
  Retrier retrier(c->retry, "test");
  for (const char* expected : {"1\n", "2\n"}) {
    Result<std::string> r = Status::Internal("unset");
    ASSERT_TRUE(retrier
                    .Run("query",
                         [&] {
                           r = (*client)->Query("SELECT 1");
                           return r.ok() ? Status::Ok() : r.status();
                         })
                    .ok());
    EXPECT_EQ(*r, expected);
  }
  // One failure on the node that is down, then the next node stays.
  EXPECT_EQ(retrier.stats().retries.load(), 1u);
  EXPECT_EQ(up.requests(), 2);
}

TEST(ClickHouseRetry, StopRequestEndsTheRetries) {
  std::atomic<bool> stop{false};
  RetryPolicy p;
  p.initial = std::chrono::milliseconds(20);
  Retrier retrier(p, "test", &stop);
  int calls = 0;
  Status st = retrier.Run("op", [&] {
    if (++calls == 3) stop.store(true);
    return Status::Unavailable("down");
  });
  EXPECT_EQ(st.code(), Status::Code::kUnavailable);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(retrier.stats().gave_up.load(), 1u);
}

}  // namespace
}  // namespace sagaflow::sinks::clickhouse
