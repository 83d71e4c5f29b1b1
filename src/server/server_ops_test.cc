// `serve` in process, as operated: auth, metrics, readiness, a slow client
// dropped while others are served, the dashboard and probes, shutdown with
// requests in flight (the fixture: server_testing.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "pipeline/analyzer.h"
#include "query/table.h"
#include "server/predict_routes.h"
#include "server/server_testing.h"
#include "sinks/sqlite/sqlite_analytics.h"
#include "text/unicode.h"

namespace sagaflow::server {
namespace {

using nlohmann::json;
using testing::SampleTexts;
using testing::ServerTest;
using testing::StartServer;

class AuthTest : public ServerTest {
 protected:
  HttpServiceOptions Options() override {
    HttpServiceOptions o;
    o.api_token = "s3cret-token";
    return o;
  }
};

TEST_F(AuthTest, EveryRouteButProbesAndMetricsNeedsTheToken) {
  auto missing = Post("/predict", R"({"text":"a"})");
  ExpectError(missing, 401, "missing");
  EXPECT_EQ(missing->get_header_value("WWW-Authenticate"), "Bearer realm=\"sagaflow\"");
  ExpectError(Get("/v1/sagas"), 401);
  ExpectError(Get("/openapi.json"), 401);
  // A bad token on an unknown route is still a 404: routing comes first.
  ExpectError(Get("/nope"), 404);
  EXPECT_EQ(Get("/healthz")->status, 200);
  EXPECT_EQ(Get("/readyz")->status, 200);  // probes (kubelet, compose) send no token
  EXPECT_EQ(Get("/metrics")->status, 200);
  EXPECT_EQ(Get("/")->status, 200);  // the page asks for the token itself
  for (const char* wrong : {"Bearer s3cret-tokeN", "Bearer s3cret-token2", "Bearer s3cret", "Basic s3cret-token",
                            "s3cret-token", "Bearer", "Bearer  "}) {
    client_->set_default_headers({{"Authorization", wrong}});
    auto r = Get("/v1/sagas");
    ExpectError(r, 401);
    EXPECT_NE(r->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos);
  }
  for (const char* right : {"Bearer s3cret-token", "bearer s3cret-token", "Bearer   s3cret-token "}) {
    client_->set_default_headers({{"Authorization", right}});
    EXPECT_EQ(Get("/v1/sagas")->status, 200) << right;
    EXPECT_EQ(Post("/predict", R"({"text":"a"})")->status, 200);
    EXPECT_EQ(Get("/readyz")->status, 200);
  }
}

class MetricsAuthTest : public AuthTest {
 protected:
  HttpServiceOptions Options() override {
    HttpServiceOptions o = AuthTest::Options();
    o.metrics_require_auth = true;
    return o;
  }
};

TEST_F(MetricsAuthTest, MetricsNeedTheTokenToo) {
  ExpectError(Get("/metrics"), 401);
  EXPECT_EQ(Get("/healthz")->status, 200);
  client_->set_default_headers({{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(Get("/metrics")->status, 200);
}

// Value of the sample `line_prefix` (name{labels}) in an exposition, or -1.
double SampleValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  at += series.size() + 2;
  return std::stod(text.substr(at, text.find('\n', at) - at));
}

// Checks the text format 0.0.4 line by line: HELP and TYPE before a
// family's samples, names and labels well-formed, numeric values,
// cumulative histogram buckets ending at +Inf == _count.
void ExpectValidExposition(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$)");
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  std::istringstream in(text);
  std::string family, type;
  std::set<std::string> seen;
  int samples = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      family = m[1];
      EXPECT_TRUE(seen.insert(family).second) << "family twice: " << family;
      continue;
    }
    if (std::regex_match(line, m, kType)) {
      EXPECT_EQ(m[1], family) << line;
      type = m[2];
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, kSample)) << "bad line: " << line;
    std::string name = m[1];
    if (type == "histogram") {
      EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" || name == family + "_count") << line;
    } else {
      EXPECT_EQ(name, family) << line;
    }
    ++samples;
  }
  EXPECT_GT(samples, 10);
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(ServerTest, MetricsCountRequestsAndParseAsPrometheusText) {
  auto before = Get("/metrics");
  ASSERT_EQ(before->status, 200);
  EXPECT_EQ(before->get_header_value("Content-Type"), kMetricsContentType);
  const std::string ok = R"(sagaflow_http_requests_total{route="/predict",method="POST",code="200"})";
  const std::string bad = R"(sagaflow_http_requests_total{route="/predict",method="POST",code="400"})";
  const double ok0 = std::max(0.0, SampleValue(before->body, ok)), bad0 = std::max(0.0, SampleValue(before->body, bad));
  for (int i = 0; i < 7; ++i) Post("/predict", R"({"text":"Frodo"})");
  for (int i = 0; i < 3; ++i) Post("/predict", "{");
  Get("/nope");
  // A request is counted after its response went out (httplib's logger), so
  // a scrape right after the last response may not see it yet: scrape until
  // it does, for at most 5 s.
  auto after = Get("/metrics");
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       std::chrono::steady_clock::now() < deadline &&
       (SampleValue(after->body, ok) != ok0 + 7 || SampleValue(after->body, bad) != bad0 + 3 ||
        SampleValue(after->body, R"(sagaflow_http_errors_total{code="404"})") < 1 ||
        SampleValue(after->body, "sagaflow_http_requests_in_flight") != 1);) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = Get("/metrics");
  }
  ExpectValidExposition(after->body);
  EXPECT_EQ(SampleValue(after->body, ok), ok0 + 7);
  EXPECT_EQ(SampleValue(after->body, bad), bad0 + 3);
  EXPECT_GE(SampleValue(after->body, R"(sagaflow_http_errors_total{code="404"})"), 1);
  EXPECT_GE(SampleValue(after->body, R"(sagaflow_http_request_duration_seconds_count{route="/predict"})"), 10);
  EXPECT_EQ(SampleValue(after->body, R"(sagaflow_http_request_duration_seconds_bucket{route="/predict",le="+Inf"})"),
            SampleValue(after->body, R"(sagaflow_http_request_duration_seconds_count{route="/predict"})"));
  // The scrape itself is in flight while it renders.
  EXPECT_EQ(SampleValue(after->body, "sagaflow_http_requests_in_flight"), 1);
}

TEST_F(ServerTest, ReadyOnlyWhileTheStoreAnswers) {
  EXPECT_EQ(Get("/readyz")->status, 200);
  // A server whose SQLite file goes away: not ready, analytics 503; back: ready.
  testing::ScratchDir dir;
  const std::string copy = dir.File("copy.db");
  std::filesystem::copy_file(data_->store, copy);
  auto s = StartServer(*data_, {}, "sqlite:" + copy);
  httplib::Client c("127.0.0.1", s->http().port());
  EXPECT_EQ(c.Get("/readyz")->status, 200);
  EXPECT_EQ(c.Get("/v1/sagas")->status, 200);
  std::filesystem::rename(copy, copy + ".moved");
  ExpectError(c.Get("/readyz"), 503, "no store");
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  std::filesystem::rename(copy + ".moved", copy);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
  // Never there: not ready, every analytics route 503, predict still works.
  auto missing = StartServer(*data_, {}, "sqlite:" + dir.File("missing.db"));
  httplib::Client m("127.0.0.1", missing->http().port());
  ExpectError(m.Get("/readyz"), 503, "missing.db");
  ExpectError(m.Get("/v1/sagas"), 503, "store unavailable");
  EXPECT_EQ(m.Post("/predict", R"({"text":"a"})", "application/json")->status, 200);
}

// With a token, /readyz still answers probes without one, but says why it is
// not ready (the store's address and error) only to callers with the token.
TEST_F(ServerTest, ReadinessReasonOnlyWithTheToken) {
  testing::ScratchDir dir;
  HttpServiceOptions http;
  http.api_token = "s3cret-token";
  auto s = StartServer(*data_, http, "sqlite:" + dir.File("missing.db"));
  httplib::Client c("127.0.0.1", s->http().port());
  auto anonymous = c.Get("/readyz");
  ExpectError(anonymous, 503, "not ready");
  EXPECT_EQ(anonymous->body.find("missing.db"), std::string::npos) << anonymous->body;
  c.set_default_headers({{"Authorization", "Bearer s3cret-token"}});
  ExpectError(c.Get("/readyz"), 503, "missing.db");
  auto ready = StartServer(*data_, http);
  httplib::Client r("127.0.0.1", ready->http().port());
  EXPECT_EQ(r.Get("/readyz")->status, 200);
}

// A raw TCP connection to the server.
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

class SlowClientTest : public ServerTest {
 protected:
  HttpServiceOptions Options() override {
    HttpServiceOptions o;
    o.read_timeout = std::chrono::milliseconds(300);
    o.keep_alive_timeout = std::chrono::seconds(1);
    o.threads = 4;
    return o;
  }
};

TEST_F(SlowClientTest, HalfARequestIsDroppedWhileOthersAreServed) {
  std::vector<int> slow;
  for (int i = 0; i < 3; ++i) {
    int fd = Connect(server_->http().port());
    const std::string half =
        "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"te";
    ASSERT_EQ(::send(fd, half.data(), half.size(), 0), static_cast<ssize_t>(half.size()));
    slow.push_back(fd);
  }
  // Served meanwhile (one worker left for us).
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Post("/predict", R"({"text":"Frodo"})")->status, 200);
  // Each slow connection is closed by the server once it stays silent.
  for (int fd : slow) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const auto start = std::chrono::steady_clock::now();
    char buf[4096];
    ssize_t n;
    std::string got;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
    EXPECT_EQ(n, 0) << "expected the server to close the connection";
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
    // Whatever it answered before closing is a JSON error, not a 200.
    EXPECT_EQ(got.find("200 OK"), std::string::npos) << got;
    ::close(fd);
  }
  EXPECT_EQ(Post("/predict", R"({"text":"Frodo"})")->status, 200);
}
TEST_F(ServerTest, DashboardAndProbes) {
  auto page = Get("/");
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(Get("/healthz")->body, R"({"status":"ok"})");
  EXPECT_EQ(Get("/readyz")->body, R"({"status":"ready"})");
  auto head = client_->Head("/healthz");
  EXPECT_EQ(head->status, 200);
}

TEST_F(ServerTest, StopAnswersRequestsInFlightThenReturns) {
  std::atomic<bool> go{true};
  std::atomic<int> ok{0}, failed_midway{0};
  std::thread load([&] {
    httplib::Client c("127.0.0.1", server_->http().port());
    const std::string body = json{{"texts", std::vector<std::string>(200, SampleTexts()[0])}}.dump();
    while (go) {
      auto r = c.Post("/v1/predict", body, "application/json");
      if (!r) break;  // refused after the stop: fine
      if (r->status == 200 && json::parse(r->body)["predictions"].size() == 200) {
        ++ok;
      } else {
        ++failed_midway;
      }
    }
  });
  while (ok < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->http().Stop();
  go = false;
  load.join();
  EXPECT_EQ(failed_midway, 0);
  EXPECT_FALSE(httplib::Client("127.0.0.1", server_->http().port()).Get("/healthz"));
}

}  // namespace
}  // namespace sagaflow::server
