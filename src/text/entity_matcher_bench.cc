// Throughput of EntityMatcher::Count on the shared corpus (text bytes per
// second, one thread), with the prototype's flat list and with the curated
// dictionary scoped by the prototype model's saga labels. Not a test: run
//   build/entity_matcher_bench [--benchmark_filter=...]
// SAGAFLOW_SHARED points at the shared data (default ../shared).
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <sstream>

#include "io/jsonl_documents.h"
#include "support/shared_data.h"
#include "text/entity_matcher.h"

namespace sagaflow::text {
namespace {

struct Corpus {
  std::vector<std::string> ids, texts, sagas;
  size_t bytes = 0;
};

const Corpus& LoadCorpus() {
  static const Corpus corpus = [] {
    Corpus c;
    std::string path = sagaflow::testing::SharedPath("corpus/texts.jsonl");
    if (path.empty()) return c;
    std::map<std::string, std::string> saga_of;
    std::ifstream tsv(sagaflow::testing::SharedPath("models/sklearn-predictions.tsv"));
    for (std::string line; std::getline(tsv, line);) {
      std::istringstream fields(line);
      std::string id, label;
      fields >> id >> label;
      saga_of[id] = label;
    }
    auto docs = io::JsonlDocuments::Open(path);
    if (!docs.ok()) return c;
    io::Document doc;
    std::string reason;
    for (;;) {
      auto outcome = (*docs)->Next(&doc, &reason);
      if (!outcome.ok() || *outcome == io::JsonlDocuments::Outcome::kEnd) break;
      if (*outcome != io::JsonlDocuments::Outcome::kDocument) continue;
      std::string id(doc.id_json.substr(1, doc.id_json.size() - 2));  // ids are JSON strings
      c.sagas.push_back(saga_of[id]);
      c.ids.push_back(std::move(id));
      c.texts.emplace_back(doc.text);
      c.bytes += doc.text.size();
    }
    return c;
  }();
  return corpus;
}

void Run(benchmark::State& state, const std::string& dict_path, bool scoped, bool simd) {
  const Corpus& corpus = LoadCorpus();
  if (corpus.texts.empty() || dict_path.empty()) {
    state.SkipWithError("shared corpus or dictionary not found (set SAGAFLOW_SHARED)");
    return;
  }
  auto dict = EntityDictionary::LoadFile(dict_path);
  if (!dict.ok()) {
    state.SkipWithError(dict.status().ToString().c_str());
    return;
  }
  auto matcher = EntityMatcher::Build(*dict, MatcherOptions{.simd = simd});
  std::vector<Mention> out;
  out.reserve(dict->entities().size());
  size_t mentions = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < corpus.texts.size(); ++i) {
      matcher->Count(corpus.texts[i], scoped ? corpus.sagas[i] : std::string_view(), &out);
      mentions += out.size();
    }
    benchmark::DoNotOptimize(mentions);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.bytes));
}

void BM_FlatList(benchmark::State& state) {
  Run(state, sagaflow::testing::SharedPath("corpus/entities.txt"), false, true);
}
void BM_FlatListPortable(benchmark::State& state) {
  Run(state, sagaflow::testing::SharedPath("corpus/entities.txt"), false, false);
}
void BM_Curated(benchmark::State& state) {
  Run(state, sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv", true, true);
}
void BM_CuratedPortable(benchmark::State& state) {
  Run(state, sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv", true, false);
}
BENCHMARK(BM_FlatList)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FlatListPortable)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Curated)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CuratedPortable)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sagaflow::text

BENCHMARK_MAIN();
