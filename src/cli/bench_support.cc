#include "cli/bench_support.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/commands.h"
#include "events/event_generator.h"

namespace sagaflow::cli {

CLI::App* BenchCommand(CLI::App& app) {
  auto found = app.get_subcommands([](CLI::App* a) { return a->get_name() == "bench"; });
  if (!found.empty()) return found.front();
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (they print figures; they are not tests)");
  bench->require_subcommand(1);
  return bench;
}

void AddEndToEndBenchOptions(CLI::App* cmd, EndToEndBenchOptions* o) {
  cmd->add_option("--corpus", o->corpus,
                  "Corpus the events' texts come from (default: $SAGAFLOW_SHARED/corpus/texts.jsonl)")
      ->envname("SAGAFLOW_BENCH_CORPUS");
  cmd->add_option("--count", o->count, "Events")->envname("SAGAFLOW_BENCH_COUNT")->capture_default_str();
  cmd->add_option("--model", o->model, "Model JSON")->envname("SAGAFLOW_MODEL")->required();
  cmd->add_option("--entities", o->entities, "Entity dictionary")->envname("SAGAFLOW_ENTITIES")->required();
  cmd->add_option("--workers", o->workers, "Analysis threads")
      ->envname("SAGAFLOW_WORKERS")
      ->check(InRange(1, 256))
      ->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Records per batch (default: the store's, as `run`)")
      ->envname("SAGAFLOW_BATCH_SIZE")
      ->check(InRange(1, 1 << 20));
  cmd->add_flag("--json", o->json, "Print one JSON object instead of text")->envname("SAGAFLOW_BENCH_JSON");
}

ScratchDir::ScratchDir(const std::string& prefix)
    : path_(std::filesystem::temp_directory_path() / fmt::format("{}-{}", prefix, ::getpid())) {
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<std::vector<events::SourceText>> LoadBenchCorpus(const std::string& corpus_path) {
  std::string corpus = corpus_path;
  if (corpus.empty()) {
    const char* env = std::getenv("SAGAFLOW_SHARED");
    corpus = std::string(env && *env ? env : SAGAFLOW_SHARED_DEFAULT) + "/corpus/texts.jsonl";
  }
  uint64_t skipped = 0;
  return events::LoadCorpus(corpus, &skipped);
}

Result<BenchEvents> GenerateBenchEvents(const std::string& corpus_path, uint64_t count) {
  auto texts = LoadBenchCorpus(corpus_path);
  if (!texts.ok()) return texts.status();
  events::GeneratorOptions g;
  g.count = count;
  g.order = events::Order::kRandom;
  g.start_time = 1700000000;
  BenchEvents out;
  out.events.reserve(count);
  auto made = events::GenerateEvents(*texts, g, [&](const events::SourceText& t, std::string_view e) {
    out.events.push_back({t.id_json, std::string(e)});
    out.bytes += e.size();
    return Status::Ok();
  });
  if (!made.ok()) return made.status();
  return out;
}

}  // namespace sagaflow::cli
