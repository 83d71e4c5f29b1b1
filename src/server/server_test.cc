// `serve` in process (ApiServer on a free port, a model trained from
// data/sample, a SQLite store filled by the pipeline) called over HTTP:
// /predict parity with the Classifier, /v1/analyze with the pipeline's
// analysis, every analytics route equal to its Analytics call, every error
// status, auth, injection attempts, slow clients, metrics, readiness, and
// random bodies.
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
using testing::SampleData;
using testing::StartServer;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { data_ = testing::NewSampleData(); }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(HasFatalFailure());
    server_ = StartServer(*data_, Options());
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->http().port());
    client_->set_read_timeout(30, 0);
  }
  virtual HttpServiceOptions Options() { return {}; }

  httplib::Result Post(const std::string& path, const std::string& body, const std::string& type = "application/json") {
    return client_->Post(path, body, type);
  }
  httplib::Result Get(const std::string& path, const httplib::Params& params = {}) {
    return client_->Get(path, params, httplib::Headers{});
  }
  static json Body(const httplib::Result& r) { return json::parse(r->body); }

  // The response is the JSON error of `status`.
  static void ExpectError(const httplib::Result& r, int status, const std::string& says = "") {
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_EQ(j["error"]["code"], status);
    ASSERT_TRUE(j["error"]["message"].is_string());
    if (!says.empty()) {
      EXPECT_NE(j["error"]["message"].get<std::string>().find(says), std::string::npos) << r->body;
    }
  }

  static std::unique_ptr<sinks::sqlite::SqliteAnalytics> Analytics() {
    auto a = sinks::sqlite::SqliteAnalytics::Open(data_->store);
    EXPECT_TRUE(a.ok());
    return std::move(*a);
  }

  static SampleData* data_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

SampleData* ServerTest::data_ = nullptr;

std::vector<std::string> SampleTexts() {
  std::vector<std::string> texts;
  for (const char* f : {"test.jsonl", "edge.jsonl"}) {
    std::istringstream in(testing::ReadFile(testing::SampleFile(f)));
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, false);  // edge.jsonl holds broken lines on purpose
      if (j.is_object() && j.contains("text") && j["text"].is_string()) texts.push_back(j["text"]);
    }
  }
  return texts;
}

// label + scores of the classifier, as /predict must answer them.
json Expected(const text::Classifier& c, const std::string& text) {
  if (text::IsBlank(text)) return {{"label", nullptr}, {"empty", true}};
  std::vector<double> scores(c.labels().size());
  int label = c.Predict(text, scores.data());
  json s = json::object();
  for (size_t k = 0; k < scores.size(); ++k) s[c.labels()[k]] = scores[k];
  return {{"label", c.labels()[static_cast<size_t>(label)]}, {"scores", s}};
}

TEST_F(ServerTest, PredictEqualsTheClassifierForEverySampleText) {
  const text::Classifier& c = server_->model().classifier;
  const auto texts = SampleTexts();
  ASSERT_GT(texts.size(), 50u);
  json batch = json::array();
  for (const auto& t : texts) {
    auto r = Post("/predict", json{{"text", t}}.dump());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(Body(r), Expected(c, t)) << t;  // doubles round-trip exactly
    auto v1 = Post("/v1/predict", json{{"text", t}}.dump());
    EXPECT_EQ(Body(v1), Expected(c, t));
    batch.push_back(Expected(c, t));
  }
  auto r = Post("/v1/predict", json{{"texts", texts}}.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r), (json{{"predictions", batch}}));
  // The prototype's clients read only "label".
  auto blank = Post("/predict", R"({"text": " \t\n"})");
  EXPECT_EQ(blank->body, R"({"label":null,"empty":true})");
  auto empty_batch = Post("/v1/predict", R"({"texts": []})");
  EXPECT_EQ(empty_batch->body, R"({"predictions":[]})");
}

TEST_F(ServerTest, AnalyzeCountsMentionsAsThePipelineDoes) {
  const pipeline::AnalysisModel& m = server_->model();
  size_t with_mentions = 0;
  for (const auto& t : SampleTexts()) {
    auto r = Post("/v1/analyze", json{{"text", t}}.dump());
    ASSERT_EQ(r->status, 200) << r->body;
    json j = Body(r);
    json expected = Expected(m.classifier, t);
    json mentions = json::object();
    if (!text::IsBlank(t)) {
      std::vector<double> scores(m.classifier.labels().size());
      std::vector<text::Mention> scratch;
      std::vector<pipeline::MentionRow> rows;
      pipeline::AnalyzeText(m.classifier, m.matcher, m.dimensions, t, scores.data(), &scratch, &rows);
      for (const auto& row : rows) {
        const std::string& name = m.dimensions.entities[row.entity].name;
        mentions[name] = mentions.value(name, 0) + row.count;
      }
    }
    expected["mentions"] = mentions;
    EXPECT_EQ(j, expected) << t;
    with_mentions += !mentions.empty();
  }
  EXPECT_GT(with_mentions, 20u);
  // Saga scoping: "Strider" (a lotr alias) counts in a lotr text only.
  auto r = Post("/v1/analyze", R"({"text": "Jon Snow, Jon Snow and Arya at Winterfell; Strider."})");
  json j = Body(r);
  EXPECT_EQ(j["label"], "got");
  EXPECT_EQ(j["mentions"]["Jon Snow"], 2);
  EXPECT_FALSE(j["mentions"].contains("Aragorn")) << j.dump();
}

TEST_F(ServerTest, AnalyticsRoutesEqualTheAnalyticsCalls) {
  auto a = Analytics();
  auto same = [&](const httplib::Result& r, const std::string& expected) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->body, expected);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  };
  auto render = [](const auto& rows) {
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return query::Render(query::ToTable(*rows), query::Format::kJson);
  };
  const query::TimeRange window{1700000000 + 86400, 1700000000 + 3 * 86400};
  for (const std::string saga : {"got", "lotr", "hp"}) {
    same(Get("/v1/top-entities", {{"saga", saga}}), render(a->TopEntities({saga, {}, 8, query::Measure::kMentions})));
    same(Get("/v1/top-entities", {{"saga", saga}, {"limit", "0"}, {"by", "readers"}}),
         render(a->TopEntities({saga, {}, 0, query::Measure::kReaders})));
    same(Get("/v1/top-entities",
             {{"saga", saga}, {"from", "1700086400"}, {"to", "2023-11-17T22:13:20Z"}, {"limit", "3"}}),
         render(a->TopEntities({saga, window, 3, query::Measure::kMentions})));
  }
  auto top = a->TopEntities({"got", {}, 8, query::Measure::kMentions});
  ASSERT_FALSE(top->empty());
  same(Get("/v1/sagas"), render(a->Sagas({})));
  same(Get("/v1/sagas", {{"from", "1700086400"}, {"to", "1700259200"}}), render(a->Sagas(window)));
  same(Get("/v1/trend", {{"entity", top->front().entity}}),
       render(a->Trend({top->front().entity, std::nullopt, query::Bucket::kDay, {}})));
  same(Get("/v1/trend", {{"entity", top->front().entity}, {"saga", "got"}, {"bucket", "hour"}, {"to", "1700200000"}}),
       render(a->Trend({top->front().entity, std::string("got"), query::Bucket::kHour, {std::nullopt, 1700200000}})));
  same(Get("/v1/saga-trend"), render(a->SagaTrend({}, query::Bucket::kDay)));
  same(Get("/v1/saga-trend", {{"bucket", "hour"}, {"from", "1700086400"}, {"to", "1700259200"}}),
       render(a->SagaTrend(window, query::Bucket::kHour)));
  same(Get("/v1/rejected"), render(a->Rejected()));
  same(Get("/v1/rejected", {{"list", "true"}, {"limit", "2"}}), render(a->DeadLetters(2)));
  // The store holds what the test put there.
  json sagas = Body(Get("/v1/sagas"));
  int64_t events = 0;
  for (const auto& row : sagas) events += row["events"].get<int64_t>();
  EXPECT_EQ(events, 800);
  EXPECT_EQ(Body(Get("/v1/rejected")).size(), 3u);
  json trend = Body(Get("/v1/saga-trend"));
  int64_t trend_events = 0;
  for (const auto& row : trend) trend_events += row["events"].get<int64_t>();
  EXPECT_EQ(trend_events, 800);
  EXPECT_GT(trend.size(), 10u);
}

TEST_F(ServerTest, SagaTrendOrdersByBucketThenSagaWithEmptyTextsLast) {
  auto rows = Analytics()->SagaTrend({}, query::Bucket::kDay);
  ASSERT_TRUE(rows.ok());
  bool saw_empty = false;
  for (size_t i = 1; i < rows->size(); ++i) {
    const auto &p = (*rows)[i - 1], &q = (*rows)[i];
    ASSERT_LE(p.time, q.time);
    if (p.time == q.time) {
      EXPECT_TRUE(q.saga.has_value() ? p.saga.has_value() && *p.saga < *q.saga : true);
    }
    saw_empty |= !q.saga.has_value();
    EXPECT_EQ(q.time % 86400, 0);
  }
  EXPECT_TRUE(saw_empty);  // edge.jsonl has blank texts
}

TEST_F(ServerTest, BadRequestsGetJsonErrorsNamingTheProblem) {
  ExpectError(Get("/nope"), 404, "/nope");
  ExpectError(Get("/v1/predict"), 405, "GET");
  EXPECT_EQ(Get("/v1/predict")->get_header_value("Allow"), "POST");
  ExpectError(client_->Delete("/v1/sagas"), 405);
  EXPECT_EQ(client_->Delete("/v1/sagas")->get_header_value("Allow"), "GET, HEAD");
  ExpectError(Post("/predict", R"({"text":"a"})", "text/plain"), 415, "text/plain");
  ExpectError(Post("/predict", R"({"text":"a"})", ""), 415);
  EXPECT_EQ(Post("/predict", R"({"text":"a"})", "Application/JSON; charset=utf-8")->status, 200);
  ExpectError(Post("/predict", R"({"text": "a")"), 400, "malformed JSON");
  ExpectError(Post("/predict", ""), 400, "empty");
  ExpectError(Post("/predict", "[1]"), 400, "object");
  ExpectError(Post("/predict", R"({"txt": "a"})"), 400, "\"text\"");
  ExpectError(Post("/predict", R"({"text": 5})"), 400, "must be a string");
  ExpectError(Post("/predict", "{\"text\": \"bad \xC3\x28 utf8\"}"), 400, "UTF-8");
  ExpectError(Post("/v1/predict", R"({"text": "a", "texts": ["b"]})"), 400, "either");
  ExpectError(Post("/v1/predict", R"({"texts": ["a", 1]})"), 400, "texts[1]");
  json many = {{"texts", std::vector<std::string>(kMaxBatchTexts + 1, "x")}};
  ExpectError(Post("/v1/predict", many.dump()), 413, "at most");
  // Bodies over the limit: by Content-Length, and chunked (no length).
  ExpectError(Post("/predict", json{{"text", std::string(size_t{1} << 20, 'a')}}.dump()), 413, "limit");
  std::string big = json{{"text", std::string(size_t{3} << 20, 'a')}}.dump();
  size_t sent = 0;
  auto chunked = client_->Post(
      "/predict",
      [&](size_t, httplib::DataSink& sink) {
        size_t n = std::min<size_t>(64 << 10, big.size() - sent);
        sink.write(big.data() + sent, n);
        sent += n;
        if (sent == big.size()) sink.done();
        return true;
      },
      "application/json");
  ExpectError(chunked, 413, "limit");
  // Query parameters.
  ExpectError(Get("/v1/top-entities"), 400, "\"saga\" is required");
  ExpectError(Get("/v1/top-entities", {{"saga", "narnia"}}), 400, "unknown saga \"narnia\"");
  ExpectError(Get("/v1/top-entities", {{"saga", "got"}, {"limit", "-1"}}), 400, "limit");
  ExpectError(Get("/v1/top-entities", {{"saga", "got"}, {"limit", "12x"}}), 400, "limit");
  ExpectError(Get("/v1/top-entities", {{"saga", "got"}, {"limit", "99999999999999999999"}}), 400, "limit");
  ExpectError(Get("/v1/top-entities", {{"saga", "got"}, {"by", "likes"}}), 400, "\"by\"");
  ExpectError(Get("/v1/top-entities", {{"saga", "got"}, {"sgaa", "x"}}), 400, "unknown parameter \"sgaa\"");
  ExpectError(Get("/v1/sagas?from=1&from=2"), 400, "more than once");
  ExpectError(Get("/v1/sagas", {{"from", "yesterday"}}), 400, "\"from\"");
  ExpectError(Get("/v1/sagas", {{"from", "2024-02-30"}}), 400, "\"from\"");
  ExpectError(Get("/v1/sagas", {{"from", "200"}, {"to", "100"}}), 400, "after");
  ExpectError(Get("/v1/trend"), 400, "\"entity\" is required");
  ExpectError(Get("/v1/trend", {{"entity", "Nobody Atall"}}), 404, "unknown entity");
  ExpectError(Get("/v1/trend", {{"entity", "Jon Snow"}, {"saga", "narnia"}}), 400, "unknown saga");
  ExpectError(Get("/v1/trend", {{"entity", "Jon Snow"}, {"bucket", "week"}}), 400, "hour or day");
  ExpectError(Get("/v1/saga-trend", {{"bucket", "minute"}}), 400, "hour or day");
  ExpectError(Get("/v1/rejected", {{"list", "yes"}}), 400, "true or false");
  ExpectError(Get("/v1/rejected", {{"limit", "5"}}), 400, "list=true");
  ExpectError(Get("/v1/sagas?from=%C3%28"), 400, "UTF-8");
  ExpectError(Get("/v1/trend", {{"entity", std::string(600, 'x')}}), 400, "longer than");
  ExpectError(Get("/assets/nope.js"), 404, "asset");
  // The connection stays usable after every error above (keep-alive).
  EXPECT_EQ(Get("/healthz")->status, 200);
}

TEST_F(ServerTest, InjectionAttemptsAreRefusedAndLeaveTheStoreUnchanged) {
  auto a = Analytics();
  auto snapshot = [&] {
    std::string s = query::Render(query::ToTable(*a->Sagas({})), query::Format::kJson);
    s += query::Render(query::ToTable(*a->Rejected()), query::Format::kJson);
    for (const char* saga : {"got", "lotr", "hp"}) {
      s += query::Render(query::ToTable(*a->TopEntities({saga, {}, 0, query::Measure::kMentions})),
                         query::Format::kJson);
    }
    return s + testing::ReadFile(data_->store);
  };
  const std::string before = snapshot();
  const std::vector<std::string> attacks = {"got' OR 1=1 --",
                                            "'; DROP TABLE fact_readers; --",
                                            "got\"; DELETE FROM fact_event; --",
                                            "got' UNION SELECT 1,2,3 --",
                                            "1; ATTACH DATABASE '/tmp/x' AS x",
                                            "Éowyn 🐉 ' OR ''='",
                                            std::string(500, '\''),
                                            "got%27%20OR%201%3D1",
                                            std::string("got\0x", 5),
                                            "\\x27",
                                            "*/ SELECT",
                                            "got\n--"};
  for (const auto& s : attacks) {
    ExpectError(Get("/v1/top-entities", {{"saga", s}}), 400);
    ExpectError(Get("/v1/top-entities", {{"saga", "got"}, {"by", s}}), 400);
    ExpectError(Get("/v1/top-entities", {{"saga", "got"}, {"limit", s}}), 400);
    ExpectError(Get("/v1/sagas", {{"from", s}}), 400);
    ExpectError(Get("/v1/saga-trend", {{"bucket", s}}), 400);
    auto trend = Get("/v1/trend", {{"entity", s}});
    ASSERT_TRUE(trend);
    EXPECT_TRUE(trend->status == 404 || trend->status == 400) << s << ": " << trend->body;
    ExpectError(Get("/v1/trend", {{"entity", "Jon Snow"}, {"saga", s}}), 400);
  }
  EXPECT_EQ(snapshot(), before);
}

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

TEST_F(ServerTest, RandomBodiesNeverCrashTheServer) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> seeds = {R"({"text":"Frodo and Sam"})", R"({"texts":["a","b"]})",
                                          "{\"text\":\"\\u00e9\"}"};
  for (int i = 0; i < 600; ++i) {
    std::string body;
    if (i % 3 == 0) {
      body.resize(rng() % 300);
      for (char& c : body) c = static_cast<char>(rng());
    } else {
      body = seeds[rng() % seeds.size()];
      for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
        const size_t at = rng() % (body.size() + 1);
        switch (rng() % 3) {
          case 0:
            body.insert(at, 1, static_cast<char>(rng()));
            break;
          case 1:
            if (at < body.size()) body.erase(at, 1);
            break;
          default:
            if (at < body.size()) body[at] = static_cast<char>(rng());
            break;
        }
      }
    }
    for (const char* path : {"/predict", "/v1/predict", "/v1/analyze"}) {
      auto r = Post(path, body);
      ASSERT_TRUE(r) << path;
      EXPECT_TRUE(r->status == 200 || r->status == 400) << path << " " << r->status << " " << r->body;
      EXPECT_TRUE(json::accept(r->body)) << r->body;
    }
  }
  EXPECT_EQ(Get("/healthz")->status, 200);
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
