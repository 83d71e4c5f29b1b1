// The HTTP front against hostile clients, over raw TCP (what no client
// library would send): ambiguous framing, malformed and oversized headers,
// control bytes, pipelining, slow and idle connections, slow routes. The
// service runs in process with a few test routes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/http_service.h"

namespace sagaflow::server {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// One response as read off the wire.
struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// A client that writes exactly the bytes it is given.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    EXPECT_TRUE(connected_);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next response (Content-Length framed), or nullopt when the server
  // closed the connection or sent nothing within `timeout`.
  // `head`: the answer to a HEAD request (a Content-Length, no body).
  std::optional<RawResponse> Read(milliseconds timeout = milliseconds(5000), bool head = false) {
    const auto deadline = SteadyClock::now() + timeout;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    RawResponse r;
    r.head = buffer_.substr(0, end + 2);
    r.status = std::stoi(r.head.substr(9, 3));
    const std::string lower = Lower(r.head);
    const size_t cl = lower.find("\r\ncontent-length: ");
    const size_t length = cl == std::string::npos || head ? 0 : std::stoul(r.head.substr(cl + 18));
    while (buffer_.size() < end + 4 + length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    r.body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return r;
  }

  // True when the server closes the connection within `timeout` (what it
  // sends before is dropped).
  bool ClosedWithin(milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      const int left =
          static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count());
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) return false;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
  }

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

 private:
  bool Fill(SteadyClock::time_point deadline) {
    const int left = static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) return false;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

class HttpFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServiceOptions o = Options();
    o.host = "127.0.0.1";
    o.port = 0;
    service_ = std::make_unique<HttpService>(o);
    service_->AddProbes([] { return Status::Ok(); });
    // Echoes what the handler saw, so a test can tell requests apart.
    service_->AddRoute({"POST", "/echo", Access::kToken,
                        [](const HttpRequest& req, HttpResponse& res) { res.SetContent(req.body, "text/plain"); }});
    service_->AddRoute({"GET", "/echo", Access::kToken, [](const HttpRequest& req, HttpResponse& res) {
                          std::string out = req.path;
                          for (const auto& [k, v] : req.params) out.append(" ").append(k).append("=").append(v);
                          res.SetContent(out, "text/plain");
                        }});
    // A route that waits, as an analytics query on a slow store does.
    service_->AddRoute({"GET", "/slow", Access::kToken,
                        [this](const HttpRequest&, HttpResponse& res) {
                          ++slow_started_;
                          std::this_thread::sleep_for(milliseconds(1500));
                          res.SetContent("slow", "text/plain");
                        },
                        true});
    ASSERT_TRUE(service_->Start().ok());
  }
  void TearDown() override { service_.reset(); }

  virtual HttpServiceOptions Options() { return {}; }
  int port() const { return service_->port(); }

  // Sends `request` on a new connection; the response, which must be a JSON
  // error when `status` >= 400, after which the server must close.
  RawResponse Expect(const std::string& request, int status) {
    RawClient c(port());
    EXPECT_TRUE(c.Send(request));
    auto r = c.Read();
    EXPECT_TRUE(r) << "no response to " << request.substr(0, 200);
    if (!r) return {};
    EXPECT_EQ(r->status, status) << request.substr(0, 200) << "\n" << r->head << r->body;
    if (status >= 400) {
      EXPECT_NE(r->head.find("Content-Type: application/json"), std::string::npos) << r->head;
      EXPECT_EQ(r->body.rfind("{\"error\":{\"code\":" + std::to_string(status), 0), 0u) << r->body;
      if (status != 401 && status != 404 && status != 405) {
        EXPECT_NE(r->head.find("Connection: close"), std::string::npos) << r->head;
        EXPECT_TRUE(c.ClosedWithin(milliseconds(6000))) << "still open after " << request.substr(0, 200);
      }
    }
    return *r;
  }

  std::unique_ptr<HttpService> service_;
  std::atomic<int> slow_started_{0};
};

const std::string kPost = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";

TEST_F(HttpFrontTest, AmbiguousContentLengthIsRefused) {
  EXPECT_EQ(Expect(kPost + "Content-Length: 2\r\n\r\nab", 200).body, "ab");
  Expect(kPost + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 400);
  Expect(kPost + "Content-Length: 2\r\nContent-Length: 2\r\n\r\nab", 400);
  Expect(kPost + "Content-Length: 2, 2\r\n\r\nab", 400);
  Expect(kPost + "Content-Length: -1\r\n\r\n", 400);
  Expect(kPost + "Content-Length: +2\r\n\r\nab", 400);
  Expect(kPost + "Content-Length: 0x2\r\n\r\nab", 400);
  Expect(kPost + "Content-Length: 99999999999999999999999\r\n\r\n", 400);
}

TEST_F(HttpFrontTest, ContentLengthWithTransferEncodingIsRefused) {
  const std::string chunked = "2\r\nab\r\n0\r\n\r\n";
  EXPECT_EQ(Expect(kPost + "Transfer-Encoding: chunked\r\n\r\n" + chunked, 200).body, "ab");
  Expect(kPost + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, 400);
  Expect(kPost + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n" + chunked, 400);
  Expect(kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, 400);
  Expect(kPost + "Transfer-Encoding: chunked, gzip\r\n\r\n" + chunked, 400);
  Expect(kPost + "Transfer-Encoding: identity\r\n\r\nab", 400);
  Expect(kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked, 501);
  Expect("POST /echo HTTP/1.0\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, 400);
  Expect(kPost + "Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", 400);  // bad chunk size
}

TEST_F(HttpFrontTest, MalformedHeaderLinesAreRefused) {
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  Expect(get + "\r\n", 200);
  Expect(get + "NoColonHere\r\n\r\n", 400);
  Expect(get + "Space : before colon\r\n\r\n", 400);
  Expect(get + ": no name\r\n\r\n", 400);
  Expect(get + "Bad[Name]: x\r\n\r\n", 400);
  Expect(get + "X-A: 1\r\n folded continuation\r\n\r\n", 400);
  Expect(get + "X-A: 1\r\n\tfolded continuation\r\n\r\n", 400);
  Expect("GET /healthz HTTP/1.1\r\n Host: x\r\n\r\n", 400);  // whitespace before the first field
  Expect("GET /healthz HTTP/1.1\nHost: x\n\n", 400);         // bare LF line ends
  Expect("GET /healthz HTTP/1.1\r\n\r\n", 400);              // HTTP/1.1 needs Host
  Expect("GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400);
}

TEST_F(HttpFrontTest, NulAndControlBytesInHeadersAreRefused) {
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (char c : {'\0', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x7f', '\r'}) {
    SCOPED_TRACE(static_cast<int>(c));
    Expect(get + "X-Value: a" + std::string(1, c) + "z\r\n\r\n", 400);
    Expect(get + "X-Na" + std::string(1, c) + "me: v\r\n\r\n", 400);
  }
  // obs-text and tabs are field content (RFC 9110 5.5).
  Expect(get + "X-Value: caf\xC3\xA9\tbar\r\n\r\n", 200);
}

class TokenFrontTest : public HttpFrontTest {
 protected:
  HttpServiceOptions Options() override {
    HttpServiceOptions o;
    o.api_token = "s3cret";
    return o;
  }
};

TEST_F(TokenFrontTest, ATokenFollowedByNulIsNotTheToken) {
  const std::string get = "GET /echo HTTP/1.1\r\nHost: x\r\n";
  Expect(get + "Authorization: Bearer s3cret\r\n\r\n", 200);
  Expect(get + std::string("Authorization: Bearer s3cret\0anything\r\n\r\n", 39), 400);
  Expect(get + "Authorization: Bearer s3cret\x01\r\n\r\n", 400);
  Expect(get + "Authorization: Bearer s3cretX\r\n\r\n", 401);
}

TEST_F(HttpFrontTest, HeaderCountAndSizeAreBounded) {
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  std::string fields;
  for (int i = 0; i < 99; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  Expect(get + fields + "\r\n", 200);  // 100 fields with Host
  Expect(get + fields + "X-Last: v\r\n\r\n", 431);
  std::string flood;
  for (int i = 0; i < 10000; ++i) flood += "X-" + std::to_string(i) + ": v\r\n";
  Expect(get + flood + "\r\n", 431);
  Expect(get + "X-Big: " + std::string(15 << 10, 'a') + "\r\n\r\n", 200);
  Expect(get + "X-Big: " + std::string(17 << 10, 'a') + "\r\n\r\n", 431);
  Expect("GET /healthz?x=" + std::string(20 << 10, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414);
}

TEST_F(HttpFrontTest, BodiesOverTheLimitAre413) {
  // By Content-Length: answered before the body is sent.
  Expect(kPost + "Content-Length: 2000000\r\n\r\n", 413);
  // Chunked: while reading.
  RawClient c(port());
  ASSERT_TRUE(c.Send(kPost + "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";
  for (int i = 0; i < 17 && c.Send(chunk); ++i) {
  }
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("limit of 1048576 bytes"), std::string::npos) << r->body;
  EXPECT_TRUE(c.ClosedWithin(milliseconds(6000)));
  // Expect: 100-continue gets the interim response, then the answer.
  RawClient e(port());
  ASSERT_TRUE(e.Send(kPost + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = e.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(e.Send("hello"));
  auto final = e.Read();
  ASSERT_TRUE(final);
  EXPECT_EQ(final->body, "hello");
}

TEST_F(HttpFrontTest, RequestLinesAndTargets) {
  Expect("G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 400);
  Expect("GET /healthz HTTX/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("GET /health z HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405);
  Expect("GET /echo?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("GET /echo?x=%4 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  Expect("GET /ec%ho HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  EXPECT_EQ(Expect("GET http://example.com/echo?a=%C3%A9+b HTTP/1.1\r\nHost: example.com\r\n\r\n", 200).body,
            "/echo a=\xC3\xA9 b");
  EXPECT_EQ(Expect("GET /e%63ho HTTP/1.1\r\nHost: x\r\n\r\n", 200).body, "/echo");
  // Empty lines before a request line are ignored (RFC 9112 2.2).
  Expect("\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200);
  // HTTP/1.0: no Host needed, closed after the answer unless kept alive.
  RawClient c(port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.rfind("HTTP/1.0 200", 0), 0u) << r->head;
  EXPECT_TRUE(c.ClosedWithin(milliseconds(2000)));
}

TEST_F(HttpFrontTest, PipelinedRequestsAreAnsweredInOrder) {
  RawClient c(port());
  std::string three;
  for (int i = 1; i <= 3; ++i) three += "GET /echo?n=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(c.Send(three));
  for (int i = 1; i <= 3; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "/echo n=" + std::to_string(i));
  }
  // Bodies, a slow (pooled) route and errors in between keep their order too.
  std::string mixed =
      kPost + "Content-Length: 3\r\n\r\none" + "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" +
      "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n" +
      "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /echo?n=last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(c.Send(mixed));
  struct Answer {
    int status;
    std::string body;
    bool head = false;
  };
  const std::vector<Answer> expected = {{200, "one"}, {200, "slow"},   {404, ""},
                                        {200, "two"}, {200, "", true}, {200, "/echo n=last"}};
  for (const Answer& a : expected) {
    auto r = c.Read(milliseconds(5000), a.head);
    ASSERT_TRUE(r) << a.body;
    EXPECT_EQ(r->status, a.status) << a.body;
    if (a.status == 200) {
      EXPECT_EQ(r->body, a.body);
    }
  }
  EXPECT_TRUE(c.ClosedWithin(milliseconds(2000)));
  // A refused request ends the connection: what follows it is not read as a request.
  RawClient d(port());
  ASSERT_TRUE(d.Send(kPost + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab" +
                     "GET /echo?n=smuggled HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = d.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_FALSE(d.Read(milliseconds(1000)));
}

class TimeoutFrontTest : public HttpFrontTest {
 protected:
  HttpServiceOptions Options() override {
    HttpServiceOptions o;
    o.read_timeout = milliseconds(2000);
    o.keep_alive_timeout = milliseconds(700);
    o.threads = 1;
    o.io_threads = 1;
    return o;
  }
};

TEST_F(TimeoutFrontTest, SlowlorisIsClosedWithinTheDeadlineWhileOthersAreServed) {
  // One header byte a second: every read is within the read timeout, the
  // header as a whole is not.
  std::atomic<int64_t> closed_after_ms{-1};
  std::thread slow([&] {
    RawClient c(port());
    const std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 'a') + "\r\n\r\n";
    const auto start = SteadyClock::now();
    for (char ch : header) {
      if (!c.Send(std::string(1, ch))) break;
      if (c.ClosedWithin(milliseconds(1000))) break;
    }
    closed_after_ms = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start).count();
  });
  // Meanwhile, on the one I/O thread, other clients are answered at once.
  std::this_thread::sleep_for(milliseconds(300));
  for (int i = 0; i < 10; ++i) {
    const auto start = SteadyClock::now();
    RawClient c(port());
    ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(SteadyClock::now() - start, milliseconds(500));
  }
  slow.join();
  EXPECT_GE(closed_after_ms, 1900);  // not before the deadline
  EXPECT_LT(closed_after_ms, 3500);  // 2 s deadline, 1 s between bytes
}

TEST_F(TimeoutFrontTest, IdleKeepAliveConnectionsAreClosed) {
  RawClient c(port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.Read());
  const auto start = SteadyClock::now();
  EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
  const auto idle = SteadyClock::now() - start;
  EXPECT_GE(idle, milliseconds(600));
  EXPECT_LT(idle, milliseconds(1500));
  // A connection that never sends anything: closed after the read timeout.
  RawClient silent(port());
  const auto silent_start = SteadyClock::now();
  EXPECT_TRUE(silent.ClosedWithin(milliseconds(4000)));
  EXPECT_GE(SteadyClock::now() - silent_start, milliseconds(1900));
}

TEST_F(TimeoutFrontTest, SlowRoutesDoNotHoldTheFastOnes) {
  // One pool thread, busy with three slow requests (4.5 s of work); the
  // fast routes answer meanwhile on the I/O thread.
  std::vector<std::thread> slow;
  slow.reserve(3);
  std::atomic<int> slow_ok{0};
  for (int i = 0; i < 3; ++i) {
    slow.emplace_back([&] {
      RawClient c(port());
      c.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      auto r = c.Read(milliseconds(10000));
      if (r && r->status == 200) ++slow_ok;
    });
  }
  while (slow_started_ == 0) std::this_thread::sleep_for(milliseconds(5));
  for (int i = 0; i < 20; ++i) {
    const auto start = SteadyClock::now();
    RawClient c(port());
    ASSERT_TRUE(c.Send(kPost + "Content-Length: 4\r\n\r\nfast"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "fast");
    EXPECT_LT(SteadyClock::now() - start, milliseconds(500));
  }
  for (auto& t : slow) t.join();
  EXPECT_EQ(slow_ok, 3);
}

TEST_F(TimeoutFrontTest, ManyIdleConnectionsHoldNoThread) {
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<RawClient>(port()));
    idle.back()->Send("GET /healthz HTTP/1.1\r\nHo");  // half a header each
  }
  RawClient c(port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.Read(milliseconds(1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

class MaxConnectionsFrontTest : public HttpFrontTest {
 protected:
  HttpServiceOptions Options() override {
    HttpServiceOptions o;
    o.max_connections = 2;
    return o;
  }
};

TEST_F(MaxConnectionsFrontTest, AcceptingPausesAtTheLimitAndResumes) {
  auto first = std::make_unique<RawClient>(port());
  RawClient second(port());
  ASSERT_TRUE(first->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(first->Read());
  RawClient third(port());  // connects (the kernel's backlog), is not served
  ASSERT_TRUE(third.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(third.Read(milliseconds(500)));
  first.reset();  // a connection closes: the third is accepted and answered
  auto r = third.Read(milliseconds(3000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

class StopFrontTest : public HttpFrontTest {};

TEST_F(StopFrontTest, StopClosesIdleConnectionsAndFinishesRequestsInFlight) {
  RawClient idle(port());
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.Read());
  RawClient busy(port());
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  while (slow_started_ == 0) std::this_thread::sleep_for(milliseconds(5));
  service_->Stop();
  EXPECT_TRUE(idle.ClosedWithin(milliseconds(1000)));
  auto r = busy.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "slow");
  EXPECT_NE(r->head.find("Connection: close"), std::string::npos);
  service_.reset();  // returns: nothing is in flight any more
}

}  // namespace
}  // namespace sagaflow::server
