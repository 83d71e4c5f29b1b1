// Test helpers for the HTTP service: a model trained from data/sample, a
// SQLite store filled by the pipeline from data/sample events (plus a few
// invalid lines for the dead-letter table), an ApiServer on a free port, and
// ServerTest: a suite calling one over HTTP (cpp-httplib's client).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "events/event_generator.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "server/api_server.h"
#include "sinks/sqlite/sqlite_analytics.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "sources/file_source.h"
#include "support/scratch_dir.h"
#include "support/shared_data.h"
#include "text/english_stop_words.h"
#include "text/trainer.h"
#include "text/unicode.h"

namespace sagaflow::server::testing {

inline std::string SampleFile(const std::string& name) {
  return ::sagaflow::testing::SourceDir() + "/data/sample/" + name;
}
inline std::string EntitiesFile() { return ::sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv"; }

using ::sagaflow::testing::ReadFile;
using ::sagaflow::testing::ScratchDir;

// Trains the way `sagaflow train --stop-words english --labels got,lotr,hp`
// does on data/sample/train.jsonl and writes the model to `path`.
inline void TrainSampleModel(const std::string& path) {
  auto docs = text::ReadLabelledJsonl(SampleFile("train.jsonl"), [](const std::string&) {});
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  text::TrainerOptions options;
  for (std::string_view w : text::EnglishStopWords()) options.tokenizer.stop_words.emplace_back(w);
  options.stop_words_name = "english";
  options.labels = {"got", "lotr", "hp"};
  auto set = text::TrainingSet::Create(*docs, options);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  std::vector<uint32_t> all(set->size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  auto model = text::Fit(*set, all, options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::ofstream(path) << text::ModelJson(*model, options, "{}");
}

// Events from data/sample's test and edge texts (random picks, 10 minutes
// apart from 2023-11-14T22:13:20Z), three invalid lines, run through the
// pipeline into sqlite:`store_path`.
inline void FillSampleStore(const std::string& model_path, const std::string& store_path,
                            const std::string& events_path) {
  std::vector<events::SourceText> texts;
  for (const char* f : {"test.jsonl", "edge.jsonl"}) {
    uint64_t skipped = 0;
    auto t = events::LoadCorpus(SampleFile(f), &skipped);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    texts.insert(texts.end(), t->begin(), t->end());
  }
  events::GeneratorOptions g;
  g.seed = 7;
  g.count = 800;
  g.order = events::Order::kRandom;
  g.start_time = 1700000000;
  g.interval = 600;
  std::FILE* out = std::fopen(events_path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(events::WriteEvents(texts, g, out).ok());
  std::fputs("not json\n{\"id\":\"x\"}\n{\"id\":\"y\",\"time\":1,\"readers\":-5,\"text\":\"a\"}\n", out);
  std::fclose(out);

  auto model = pipeline::AnalysisModel::Load(model_path, EntitiesFile());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto source = sources::FileSource::Open(events_path, events::kDefaultMaxEventBytes);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto sink = sinks::sqlite::SqliteSink::Open(store_path);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  pipeline::PipelineCounters counters("file", "sqlite");
  pipeline::Pipeline p(**source, **sink, (*model)->classifier, (*model)->matcher, (*model)->dimensions, {}, &counters);
  Status st = p.Run();
  ASSERT_TRUE(st.ok()) << st.ToString();
}

// Model, store and events shared by a test suite (built once).
struct SampleData {
  ScratchDir dir;
  std::string model = dir.File("model.json");
  std::string store = dir.File("store.db");
  std::string events = dir.File("events.jsonl");
};

// A SampleData with the sample model trained and the store filled from
// the sample events, for a suite's SetUpTestSuite (the suite deletes it).
inline SampleData* NewSampleData() {
  auto* data = new SampleData;
  TrainSampleModel(data->model);
  FillSampleStore(data->model, data->store, data->events);
  return data;
}

// Starts an ApiServer on 127.0.0.1, a free port.
inline std::unique_ptr<ApiServer> StartServer(const SampleData& data, HttpServiceOptions http = {},
                                              const std::string& store = "") {
  ApiServerOptions o;
  http.host = "127.0.0.1";
  http.port = 0;
  o.http = std::move(http);
  o.model_path = data.model;
  o.entities_path = EntitiesFile();
  o.store = store.empty() ? "sqlite:" + data.store : store;
  auto s = ApiServer::Create(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  Status st = (*s)->http().Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return std::move(*s);
}

using json = nlohmann::json;

// A suite with the sample model and store (built once) and, per test, an
// ApiServer with Options() and a client for it.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { data_ = testing::NewSampleData(); }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(HasFatalFailure());
    server_ = testing::StartServer(*data_, Options());
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

  inline static testing::SampleData* data_ = nullptr;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

// The texts of data/sample's test and edge files.
inline std::vector<std::string> SampleTexts() {
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
inline json Expected(const text::Classifier& c, const std::string& text) {
  if (text::IsBlank(text)) return {{"label", nullptr}, {"empty", true}};
  std::vector<double> scores(c.labels().size());
  int label = c.Predict(text, scores.data());
  json s = json::object();
  for (size_t k = 0; k < scores.size(); ++k) s[c.labels()[k]] = scores[k];
  return {{"label", c.labels()[static_cast<size_t>(label)]}, {"scores", s}};
}

}  // namespace sagaflow::server::testing
