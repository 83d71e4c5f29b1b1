// Test helpers for the HTTP service: a model trained from data/sample, a
// SQLite store filled by the pipeline from data/sample events (plus a few
// invalid lines for the dead-letter table), and an ApiServer on a free port.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "events/event_generator.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "server/api_server.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "sources/file_source.h"
#include "support/scratch_dir.h"
#include "support/shared_data.h"
#include "text/english_stop_words.h"
#include "text/trainer.h"

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

}  // namespace sagaflow::server::testing
