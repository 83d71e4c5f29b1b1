// Single-thread classification throughput on the shared corpus (Google
// Benchmark; not a test). The model is the shared prototype pipeline,
// exported on the fly with tools/export_sklearn_model.py, or the model JSON
// named by SAGAFLOW_MODEL.
//
//   build/classifier_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "text/classifier.h"
#include "text/unicode.h"

namespace {

std::string SharedDir() {
  const char* env = std::getenv("SAGAFLOW_SHARED");
  return env && *env ? env : SAGAFLOW_SHARED_DEFAULT;
}

struct Fixture {
  std::vector<std::string> texts;
  size_t bytes = 0;
  std::optional<sagaflow::text::Classifier> classifier;
  std::string error;

  Fixture() {
    std::string corpus = SharedDir() + "/corpus/texts.jsonl";
    simdjson::dom::parser parser;
    simdjson::dom::document_stream stream;
    if (parser.load_many(corpus).get(stream)) {
      error = "cannot read " + corpus;
      return;
    }
    for (auto doc : stream) {
      std::string_view t;
      if (doc["text"].get_string().get(t)) continue;
      texts.emplace_back(t);
      bytes += t.size();
    }
    std::string model;
    const char* env = std::getenv("SAGAFLOW_MODEL");
    if (env && *env) {
      model = env;
    } else {
      model = (std::filesystem::temp_directory_path() / "sagaflow_classifier_bench_model.json").string();
      std::string cmd = "/usr/bin/python3 " SAGAFLOW_SOURCE_DIR "/tools/export_sklearn_model.py '" + SharedDir() +
                        "/models/classification_pipeline.joblib' '" + model + "' --labels got,lotr,hp";
      if (std::system(cmd.c_str()) != 0) {
        error = "model export failed: " + cmd;
        return;
      }
    }
    auto c = sagaflow::text::Classifier::LoadFile(model);
    if (!c.ok()) {
      error = c.status().ToString();
      return;
    }
    classifier.emplace(std::move(*c));
  }
};

Fixture& Get() {
  static Fixture f;
  return f;
}

void BM_ClassifyCorpus(benchmark::State& state) {
  Fixture& f = Get();
  if (!f.classifier) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  double scores[8];
  int sum = 0;
  for (auto _ : state) {
    for (const std::string& t : f.texts) sum += f.classifier->Predict(t, scores);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.bytes));
  state.counters["texts/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * f.texts.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ClassifyCorpus)->Unit(benchmark::kMillisecond);

// The same texts through the general (non-ASCII) path: every 'e' replaced by 'é'.
void BM_ClassifyAccented(benchmark::State& state) {
  Fixture& f = Get();
  if (!f.classifier) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  static std::vector<std::string> texts = [&] {
    std::vector<std::string> out;
    for (const std::string& t : f.texts) {
      std::string s;
      for (char c : t) c == 'e' ? s.append("\xC3\xA9") : s.append(1, c);
      out.push_back(std::move(s));
    }
    return out;
  }();
  size_t bytes = 0;
  for (const std::string& t : texts) bytes += t.size();
  double scores[8];
  int sum = 0;
  for (auto _ : state) {
    for (const std::string& t : texts) sum += f.classifier->Predict(t, scores);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ClassifyAccented)->Unit(benchmark::kMillisecond);

void BM_Lowercase(benchmark::State& state) {
  Fixture& f = Get();
  std::string out;
  for (auto _ : state) {
    for (const std::string& t : f.texts) {
      out.clear();
      sagaflow::text::AppendLowercase(t, &out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.bytes));
}
BENCHMARK(BM_Lowercase)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
