// The delivery races of docs/clickhouse.md#effectively-once, driven against
// a real server, each must leave every answer (rollups and facts) equal to
// the reference's and to the SQLite store's for the same records:
//  - a rebalance: two writers resume a stream at the same checkpoint and
//    finish the same offsets in different batches, interleaved, one of them
//    late (a zombie whose writes land after the new owner's);
//  - a retry after a timeout whose insert landed: a proxy forwards inserts
//    and cuts their responses short once the server has executed them, so
//    the sink's retrier sends again inserts that are already stored (a
//    response lost whole would not do: libcurl silently re-sends a request
//    on a fresh connection when a reused one closes before any byte of the
//    answer, below the retrier);
//  - a crash between insert and checkpoint: the checkpoint insert fails for
//    good, the sink is dropped (its state lost, as with SIGKILL) and a new
//    one resumes at the old checkpoint with other batch boundaries;
//  - a stream that comes back to a writer after another wrote records of it
//    in between: what the first knows of the stream's prefixes is stale.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string_view>
#include <thread>

#include "pipeline/batch_testing.h"
#include "sinks/clickhouse/clickhouse_analytics.h"
#include "sinks/clickhouse/clickhouse_sink.h"
#include "sinks/clickhouse/clickhouse_testing.h"
#include "sinks/clickhouse/rollups.h"
#include "sinks/sqlite/sqlite_analytics.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "sinks/store_testing.h"
#include "support/scratch_dir.h"

namespace sagaflow::sinks::clickhouse {
namespace {

using pipeline::Batch;

// A TCP proxy in front of the server that, for the next `n` requests
// containing `marker`, closes the connection: after the server answered
// (the statement ran; the client gets an answer cut short and reports a
// failed exchange), or, with `before_server`,
// before the server saw the request. It counts the requests containing the
// marker that reached the server.
class FaultProxy {
 public:
  FaultProxy(const std::string& upstream_host, int upstream_port) : host_(upstream_host), port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    EXPECT_EQ(::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << "proxy: bind";
    EXPECT_EQ(::listen(listener_, 16), 0) << "proxy: listen";
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    listen_port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~FaultProxy() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    for (auto& t : pumps_) t.join();
  }
  int port() const { return listen_port_; }
  void Drop(const std::string& marker, int n, bool before_server = false) {
    std::lock_guard<std::mutex> lock(mu_);
    marker_ = marker;
    drops_ = n;
    before_server_ = before_server;
  }
  int dropped() const { return dropped_; }
  int forwarded() const { return forwarded_; }

 private:
  void Accept() {
    for (;;) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0 || stop_) {
        if (client >= 0) ::close(client);
        return;
      }
      pumps_.emplace_back([this, client] { Pump(client); });
    }
  }
  void Pump(int client) {
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    ::inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(client);
      ::close(server);
      return;
    }
    std::string request;  // bytes of the request in progress
    bool drop_answer = false, counted = false;
    char buf[65536];
    for (bool open = true; open && !stop_;) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 200) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          open = false;
          break;
        }
        if (i == 0) {
          request.append(buf, static_cast<size_t>(n));
          std::lock_guard<std::mutex> lock(mu_);
          const bool marked = !marker_.empty() && !counted && request.find(marker_) != std::string::npos;
          if (drops_ > 0 && marked && !drop_answer) {
            --drops_;
            drop_answer = true;
            if (before_server_) {
              ++dropped_;
              open = false;
              break;
            }
          }
          if (marked) {
            ++forwarded_;
            counted = true;
          }
        } else {
          request.clear();
          counted = false;
          if (drop_answer && std::string_view(buf, static_cast<size_t>(n)).starts_with("HTTP/1.1 200")) {
            // The statement ran. The answer breaks off after headers that
            // promised a body: libcurl reports a partial answer, a retriable
            // failure (an answer lost whole it would re-send by itself).
            ++dropped_;
            constexpr std::string_view kCut = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n";
            if (::write(client, kCut.data(), kCut.size()) < 0) {
              // The client is gone already.
            }
            open = false;
            break;
          }
          drop_answer = false;  // a failure answered: forwarded as it is
        }
        if (::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) open = false;
      }
    }
    ::close(client);
    ::close(server);
  }

  std::string host_;
  int port_, listen_port_ = 0, listener_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> dropped_{0}, forwarded_{0};
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
  std::mutex mu_;
  std::string marker_;
  int drops_ = 0;
  bool before_server_ = false;
};

class ClickHouseRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SAGAFLOW_REQUIRE_CLICKHOUSE(address);
    address_ = address;
    database_ = testing::UniqueDatabase();
    uri_ = "clickhouse://" + address_ + "/" + database_ + "?retry_initial_ms=10&retry_max_ms=100";
    auto c = ParseClickHouseUri(uri_);
    ASSERT_TRUE(c.ok());
    auto client = ClickHouseClient::Create(*c);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    ASSERT_TRUE(client_->Query("DROP DATABASE IF EXISTS " + database_, false).ok());
    dims_ = sinks::testing::TestDimensions();
    lite_path_ = scratch_.File("race.db");
  }
  void TearDown() override {
    if (client_ && !HasFailure()) (void)client_->Query("DROP DATABASE IF EXISTS " + database_, false);
  }
  std::unique_ptr<ClickHouseSink> Sink(const std::string& address, const std::string& options = "") {
    auto c = ParseClickHouseUri("clickhouse://" + address + "/" + database_ + "?retry_initial_ms=10&retry_max_ms=100" +
                                options);
    EXPECT_TRUE(c.ok());
    auto s = ClickHouseSink::Open(*c);
    EXPECT_TRUE(s.ok());
    Status st = (*s)->Prepare(dims_);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(*s);
  }

  // The records of `history` as one stream: batches cut at other places.
  static std::vector<Batch> Recut(const std::vector<Batch>& history, size_t records_per_batch) {
    std::vector<Batch> out;
    Batch cur;
    auto flush = [&] {
      if (cur.records) out.push_back(cur);
      cur = Batch();
    };
    for (const Batch& b : history) {
      // Records in position order within each stream, streams interleaved.
      for (const auto& e : b.events) {
        auto copy = e;
        const std::string& key = b.streams[e.stream].key;
        copy.stream = StreamIndex(&cur, key, e.position);
        copy.first_mention = static_cast<uint32_t>(cur.mentions.size());
        cur.mentions.insert(cur.mentions.end(), b.mentions.begin() + e.first_mention,
                            b.mentions.begin() + e.first_mention + e.mention_count);
        cur.events.push_back(copy);
        if (++cur.records >= records_per_batch) flush();
      }
      for (const auto& d : b.dead_letters) {
        auto copy = d;
        copy.stream = StreamIndex(&cur, b.streams[d.stream].key, d.position);
        cur.dead_letters.push_back(copy);
        if (++cur.records >= records_per_batch) flush();
      }
    }
    flush();
    return out;
  }
  // The index of stream `key` in `b`, its checkpoint moved to `position`.
  static uint32_t StreamIndex(Batch* b, const std::string& key, uint64_t position) {
    for (uint32_t i = 0; i < b->streams.size(); ++i) {
      if (b->streams[i].key == key) {
        auto& cp = b->streams[i].checkpoint;
        cp.position = std::max(cp.position, position);
        return i;
      }
    }
    b->streams.push_back({key, "random", {position, 0, 0}});
    return static_cast<uint32_t>(b->streams.size() - 1);
  }

  // Writes `history` once, cleanly, to SQLite and the reference, then
  // compares ClickHouse's totals (store_testing.h) with both.
  void ExpectAnswersOf(const std::vector<Batch>& history) {
    sinks::testing::ReferenceAnalytics reference(dims_);
    {
      auto lite = sqlite::SqliteSink::Open(lite_path_);
      ASSERT_TRUE(lite.ok());
      ASSERT_TRUE((*lite)->Prepare(dims_).ok());
      for (const Batch& b : history) {
        ASSERT_TRUE((*lite)->Write(b).ok());
        reference.Write(b);
      }
    }
    auto c = ParseClickHouseUri(uri_);
    auto ch = ClickHouseAnalytics::Open(*c);
    ASSERT_TRUE(ch.ok()) << ch.status().ToString();
    auto lite = sqlite::SqliteAnalytics::Open(lite_path_);
    ASSERT_TRUE(lite.ok());
    constexpr auto kTotals = sinks::testing::Coverage::kTotals;
    EXPECT_GT(sinks::testing::ExpectSameAnswers(**ch, reference, 21, kTotals), 80);
    sinks::testing::ExpectSameAnswers(**ch, **lite, 22, kTotals);
    // And after the merges have collapsed what they can.
    for (const TableSpec& t : RollupSchema())
      ASSERT_TRUE(client_->Query(std::string("OPTIMIZE TABLE ") + t.name + " FINAL").ok());
    sinks::testing::ExpectSameAnswers(**ch, reference, 23, kTotals);
  }

  sagaflow::testing::ScratchDir scratch_;
  std::string address_, database_, uri_, lite_path_;
  std::unique_ptr<ClickHouseClient> client_;
  pipeline::Dimensions dims_;
};

TEST_F(ClickHouseRaceTest, TwoWritersFinishingTheSameOffsets) {
  const auto history = sinks::testing::RandomHistory(31, 14, 4, 80);
  auto a = Sink(address_), b = Sink(address_);
  // Both resume at the same (empty) checkpoint; B cuts batches differently.
  const auto a_batches = Recut(history, 37), b_batches = Recut(history, 23);
  // Interleaved: A ahead, then B overtakes, then A (a zombie) lands late.
  size_t i = 0, j = 0;
  while (i < a_batches.size() || j < b_batches.size()) {
    for (int k = 0; k < 2 && i < a_batches.size(); ++k) ASSERT_TRUE(a->Write(a_batches[i++]).ok());
    for (int k = 0; k < 3 && j < b_batches.size(); ++k) ASSERT_TRUE(b->Write(b_batches[j++]).ok());
  }
  ExpectAnswersOf(history);
}

// A rebalance back and forth: A writes the stream's first batches, B (its
// owner for a while) the next ones, which A never sees, and A, owner again,
// resumes at B's checkpoint. What A's sink knows of the stream's prefixes
// (rollups.h KnownPrefixes) lacks B's records: it must notice B's
// checkpoint and read the prefixes back.
TEST_F(ClickHouseRaceTest, AWriterResumingAfterAnotherOwnerWroteItsStream) {
  const auto history = sinks::testing::RandomHistory(34, 14, 4, 80);
  const auto batches = Recut(history, 31);
  ASSERT_GE(batches.size(), 9u);
  auto a = Sink(address_), b = Sink(address_);
  const size_t third = batches.size() / 3;
  for (size_t i = 0; i < batches.size(); ++i) {
    auto r = (i >= third && i < 2 * third ? b : a)->Write(batches[i]);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ExpectAnswersOf(history);
}

TEST_F(ClickHouseRaceTest, RetriesOfInsertsThatLanded) {
  const auto history = sinks::testing::RandomHistory(32, 14, 4, 80);
  const std::string host = address_.substr(0, address_.rfind(':'));
  FaultProxy proxy(host == "localhost" ? "127.0.0.1" : host, std::stoi(address_.substr(address_.rfind(':') + 1)));
  auto sink = Sink("127.0.0.1:" + std::to_string(proxy.port()));
  size_t n = 0;
  int raced = 0;
  for (const Batch& b : history) {
    // The rollups' and the facts' inserts, in turn, land twice.
    static const char* kTables[] = {kRollupTable, "fact_readers", "fact_event"};
    const char* table = kTables[n++ % 3];
    proxy.Drop(std::string("INSERT%20INTO%20") + table, 1);
    const int dropped = proxy.dropped(), forwarded = proxy.forwarded();
    auto r = sink->Write(b);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (proxy.dropped() == dropped) continue;  // the batch wrote nothing to `table`
    // The insert reached the server, and the retrier sent it again.
    EXPECT_GE(proxy.forwarded() - forwarded, 2) << table;
    ++raced;
  }
  EXPECT_GE(raced, 8);
  EXPECT_GE(sink->retry_stats().retries.load(), static_cast<uint64_t>(raced));
  ExpectAnswersOf(history);
}

TEST_F(ClickHouseRaceTest, CrashesBetweenInsertAndCheckpoint) {
  const auto history = sinks::testing::RandomHistory(33, 14, 4, 80);
  const std::string host = address_.substr(0, address_.rfind(':'));
  FaultProxy proxy(host == "localhost" ? "127.0.0.1" : host, std::stoi(address_.substr(address_.rfind(':') + 1)));
  auto batches = Recut(history, 29);
  size_t next = 0;
  for (int crash = 0; crash < 3; ++crash) {
    // A sink that writes two batches, then dies after the rows of the third
    // (its checkpoint never stored: every attempt's answer is lost).
    auto sink = Sink("127.0.0.1:" + std::to_string(proxy.port()), "&retry_give_up_s=1");
    for (int k = 0; k < 2 && next < batches.size(); ++k) ASSERT_TRUE(sink->Write(batches[next++]).ok());
    if (next >= batches.size()) break;
    proxy.Drop("INSERT%20INTO%20source", 1000, /*before_server=*/true);
    EXPECT_FALSE(sink->Write(batches[next]).ok());
    proxy.Drop("", 0);
    // The next run resumes right after the stored checkpoint (the batch
    // before), or reads from one batch further back, and cuts the records
    // into other batches: the dead sink's prefixes reach past the ends of
    // several of them, also after the new sink's own checkpoint.
    const size_t from = crash == 1 && next > 0 ? next - 1 : next;
    const std::vector<Batch> rest(batches.begin() + static_cast<std::ptrdiff_t>(from), batches.end());
    batches = Recut(rest, 11 + 6 * static_cast<size_t>(crash));
    next = 0;
  }
  auto last = Sink(address_);
  for (; next < batches.size(); ++next) ASSERT_TRUE(last->Write(batches[next]).ok());
  ExpectAnswersOf(history);
}

// A crash as above within one hour: every batch of the next writer touches
// only the hour and day its previous batch touched, so it reads nothing
// back, and the dead writer's prefixes, read back by its first batch, reach
// past its checkpoint into a later batch of it.
TEST_F(ClickHouseRaceTest, ADeadWritersPrefixesReachIntoTheNextWritersLaterBatches) {
  Batch all;
  for (uint64_t p = 0; p < 70; ++p) {
    pipeline::testing::AddEvent(&all, 0, p, static_cast<int>(p % 3), 100 + static_cast<int64_t>(p),
                                1700000000 + static_cast<int64_t>(p), {{static_cast<uint32_t>(p % 7), 1 + p % 2}});
  }
  pipeline::testing::SetCheckpoint(&all, 69, "kafka:one-hour/0");
  const std::vector<Batch> history = {all};
  const std::string host = address_.substr(0, address_.rfind(':'));
  FaultProxy proxy(host == "localhost" ? "127.0.0.1" : host, std::stoi(address_.substr(address_.rfind(':') + 1)));
  const auto dead_batches = Recut(history, 30);  // records 0-29, 30-59, 60-69
  ASSERT_EQ(dead_batches.size(), 3u);
  {
    auto dead = Sink("127.0.0.1:" + std::to_string(proxy.port()), "&retry_give_up_s=1");
    ASSERT_TRUE(dead->Write(dead_batches[0]).ok());
    proxy.Drop("INSERT%20INTO%20source", 1000, /*before_server=*/true);
    EXPECT_FALSE(dead->Write(dead_batches[1]).ok());  // its rows up to 59, no checkpoint
    proxy.Drop("", 0);
  }
  // Resumed after checkpoint 29, in batches of 7: 30-36, ..., 58-64, 65-69.
  auto next = Sink(address_);
  for (const Batch& b : Recut({dead_batches[1], dead_batches[2]}, 7)) {
    auto r = next->Write(b);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ExpectAnswersOf(history);
}

}  // namespace
}  // namespace sagaflow::sinks::clickhouse
