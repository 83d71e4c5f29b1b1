// `sagaflow bench pipeline`: events/s of the embedded pipeline, from a JSONL
// file of events into a fresh SQLite store, as `sagaflow run` does it (same
// source, threads, batches and transactions). Without --events it first
// generates them from a corpus (default: the shared corpus) with
// `produce`'s generator. A benchmark, not a test: it prints figures.
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "events/event_generator.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "pipeline/report.h"
#include "pipeline/store_uri.h"
#include "sources/open_source.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

namespace fs = std::filesystem;

struct BenchPipelineOptions {
  std::string events;
  std::string corpus;
  uint64_t count = 50000;
  std::string model;
  std::string entities;
  size_t workers = std::max(1u, std::thread::hardware_concurrency());
  size_t batch_size = 2048;
  int repeat = 3;
  bool json = false;
};

std::string DefaultCorpus() {
  const char* env = std::getenv("SAGAFLOW_SHARED");
  std::string shared = env && *env ? env : SAGAFLOW_SHARED_DEFAULT;
  return shared + "/corpus/texts.jsonl";
}

struct Measurement {
  double seconds = 0;
  pipeline::CountersSnapshot counters;
};

Result<Measurement> RunOnce(const BenchPipelineOptions& o, const pipeline::AnalysisModel& model,
                            const std::string& events, const std::string& store) {
  auto source = sources::OpenSource(events, events::kDefaultMaxEventBytes);
  if (!source.ok()) return source.status();
  auto sink = pipeline::OpenSink("sqlite:" + store);
  if (!sink.ok()) return sink.status();
  pipeline::PipelineOptions popts;
  popts.workers = o.workers;
  popts.batch_records = o.batch_size;
  pipeline::PipelineCounters counters("file", "sqlite");
  pipeline::Pipeline p(**source, **sink, model.classifier, model.matcher, model.dimensions, popts, &counters);
  auto start = std::chrono::steady_clock::now();
  Status st = p.Run();
  Measurement m;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!st.ok()) return st;
  m.counters = counters.Snapshot();
  return m;
}

int RunBenchPipeline(const BenchPipelineOptions& o) {
  auto model = pipeline::AnalysisModel::Load(o.model, o.entities);
  if (!model.ok()) {
    spdlog::error("bench pipeline: {}", model.status().ToString());
    return 2;
  }
  fs::path dir = fs::temp_directory_path() / fmt::format("sagaflow-bench-{}", ::getpid());
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};

  std::string events = o.events;
  if (events.empty()) {
    std::string corpus = o.corpus.empty() ? DefaultCorpus() : o.corpus;
    uint64_t skipped = 0;
    auto texts = events::LoadCorpus(corpus, &skipped);
    if (!texts.ok()) {
      spdlog::error("bench pipeline: {}", texts.status().ToString());
      return 2;
    }
    events = (dir / "events.jsonl").string();
    std::FILE* f = std::fopen(events.c_str(), "wb");
    events::GeneratorOptions g;
    g.count = o.count;
    g.order = events::Order::kRandom;
    g.start_time = 1700000000;
    auto n = f ? events::WriteEvents(*texts, g, f) : Result<uint64_t>(Status::IoError("cannot create " + events));
    if (f) std::fclose(f);
    if (!n.ok()) {
      spdlog::error("bench pipeline: {}", n.status().ToString());
      return 1;
    }
    spdlog::info("bench pipeline: {} events generated from {}", *n, corpus);
  }

  std::vector<Measurement> runs;
  for (int i = 0; i < o.repeat; ++i) {
    std::string store = (dir / fmt::format("store-{}.db", i)).string();
    auto m = RunOnce(o, **model, events, store);
    if (!m.ok()) {
      spdlog::error("bench pipeline: {}", m.status().ToString());
      return 1;
    }
    spdlog::info("bench pipeline: run {}: {} records in {:.3f} s = {} events/s", i + 1, m->counters.records,
                 m->seconds, pipeline::Thousands(static_cast<uint64_t>(m->counters.records / m->seconds)));
    runs.push_back(*m);
  }
  std::sort(runs.begin(), runs.end(), [](const Measurement& a, const Measurement& b) { return a.seconds < b.seconds; });
  const Measurement& median = runs[runs.size() / 2];
  const double eps = median.counters.records / median.seconds;
  const double mbps = median.counters.bytes / median.seconds / 1e6;
  if (o.json) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("benchmark"), w.String("pipeline");
    w.Key("events"), w.Int(static_cast<int64_t>(median.counters.records));
    w.Key("bytes"), w.Int(static_cast<int64_t>(median.counters.bytes));
    w.Key("workers"), w.Int(static_cast<int64_t>(o.workers));
    w.Key("cores"), w.Int(std::thread::hardware_concurrency());
    w.Key("repeat"), w.Int(o.repeat);
    w.Key("median_seconds"), w.Double(median.seconds);
    w.Key("events_per_second"), w.Double(eps);
    w.Key("mb_per_second"), w.Double(mbps);
    w.EndObject();
    out.push_back('\n');
    std::fputs(out.c_str(), stdout);
  } else {
    std::printf("pipeline: %s events (%.1f MB) file -> sqlite, %zu workers on %u cores, median of %d runs\n",
                pipeline::Thousands(median.counters.records).c_str(), median.counters.bytes / 1e6, o.workers,
                std::thread::hardware_concurrency(), o.repeat);
    std::printf("  %.3f s  %s events/s  %.1f MB/s\n", median.seconds,
                pipeline::Thousands(static_cast<uint64_t>(eps)).c_str(), mbps);
  }
  return 0;
}

}  // namespace

void AddBenchPipelineCommand(CLI::App& app) {
  // `bench` belongs to bench_command.cc; this adds one benchmark under it
  // (and creates `bench` if that file is not linked in).
  auto found = app.get_subcommands([](CLI::App* a) { return a->get_name() == "bench"; });
  CLI::App* bench = found.empty() ? app.add_subcommand("bench", "Benchmarks (figures, not tests)") : found.front();
  if (found.empty()) bench->require_subcommand(1);

  auto o = std::make_shared<BenchPipelineOptions>();
  CLI::App* cmd = bench->add_subcommand("pipeline", "Events/s of `run`: JSONL events -> analyze -> SQLite");
  cmd->add_option("--events", o->events, "Events file (default: generate --count events from --corpus)")
      ->envname("SAGAFLOW_BENCH_EVENTS");
  cmd->add_option("--corpus", o->corpus, "Corpus for generated events (default: $SAGAFLOW_SHARED/corpus/texts.jsonl)")
      ->envname("SAGAFLOW_BENCH_CORPUS");
  cmd->add_option("--count", o->count, "Generated events")->envname("SAGAFLOW_BENCH_COUNT")->capture_default_str();
  cmd->add_option("--model", o->model, "Model JSON")->envname("SAGAFLOW_MODEL")->required();
  cmd->add_option("--entities", o->entities, "Entity dictionary")->envname("SAGAFLOW_ENTITIES")->required();
  cmd->add_option("--workers", o->workers, "Analysis threads")
      ->envname("SAGAFLOW_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Records per batch")
      ->envname("SAGAFLOW_BATCH_SIZE")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "Runs (the median is reported)")
      ->envname("SAGAFLOW_BENCH_REPEAT")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object instead of text")->envname("SAGAFLOW_BENCH_JSON");
  cmd->callback([o] { SetExitStatus(RunBenchPipeline(*o)); });
}

}  // namespace sagaflow::cli
