// `serve` in process (ApiServer on a free port, a model trained from
// data/sample, a SQLite store filled by the pipeline) called over HTTP:
// /predict parity with the Classifier, /v1/analyze with the pipeline's
// analysis, every analytics route equal to its Analytics call, every error
// status, injection attempts, compressed and random bodies. Auth, metrics,
// readiness, slow clients and shutdown: server_ops_test.cc; hostile clients
// on raw TCP: http_front_test.cc.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "pipeline/analyzer.h"
#include "query/table.h"
#include "server/predict_routes.h"
#include "server/server_testing.h"
#include "sinks/sqlite/sqlite_analytics.h"
#include "text/unicode.h"

namespace sagaflow::server {
namespace {

using nlohmann::json;
using testing::Expected;
using testing::SampleTexts;
using testing::ServerTest;

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
// httplib's client gzips request bodies (Content-Encoding: gzip) with
// set_compress; the answers equal those of plain bodies, and a body that
// decodes past --max-body-bytes is a 413.
TEST_F(ServerTest, GzipBodiesAreDecoded) {
  const auto texts = SampleTexts();
  httplib::Client gzip("127.0.0.1", server_->http().port());
  gzip.set_compress(true);
  for (size_t i = 0; i < texts.size(); i += 7) {
    const std::string body = json{{"text", texts[i]}}.dump();
    auto r = gzip.Post("/v1/analyze", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->body, Post("/v1/analyze", body)->body);
  }
  const std::string huge = json{{"text", std::string(size_t{2} << 20, 'a')}}.dump();
  ExpectError(gzip.Post("/predict", huge, "application/json"), 413, "limit");
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
}  // namespace
}  // namespace sagaflow::server
