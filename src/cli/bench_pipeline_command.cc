// `sagaflow bench pipeline`: events/s of the embedded pipeline, from a JSONL
// file of events into a fresh SQLite store, as `sagaflow run` does it (same
// source, threads, batches and transactions). Without --events it first
// generates them from a corpus (default: the shared corpus) with
// `produce`'s generator. A benchmark, not a test: it prints figures.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/bench_support.h"
#include "cli/commands.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "pipeline/report.h"
#include "pipeline/store_uri.h"
#include "sources/open_source.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

struct BenchPipelineOptions {
  EndToEndBenchOptions common;
  std::string events;  // empty: generate common.count events from common.corpus
  int repeat = 3;
};

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
  pipeline::PipelineOptions popts = pipeline::DefaultPipelineOptions(*pipeline::ParseStoreUri("sqlite:" + store));
  popts.workers = o.common.workers;
  if (o.common.batch_size) popts.batch_records = o.common.batch_size;
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
  auto model = pipeline::AnalysisModel::Load(o.common.model, o.common.entities);
  if (!model.ok()) {
    spdlog::error("bench pipeline: {}", model.status().ToString());
    return kExitFailure;
  }
  ScratchDir dir("sagaflow-bench-pipeline");
  std::string events = o.events;
  if (events.empty()) {
    auto generated = GenerateBenchEvents(o.common.corpus, o.common.count);
    if (!generated.ok()) {
      spdlog::error("bench pipeline: {}", generated.status().ToString());
      return kExitFailure;
    }
    events = (dir.path() / "events.jsonl").string();
    std::FILE* f = std::fopen(events.c_str(), "wb");
    bool written = f != nullptr;
    for (const BenchEvent& e : generated->events) {
      if (!written) break;
      written = std::fwrite(e.event.data(), 1, e.event.size(), f) == e.event.size() && std::fputc('\n', f) != EOF;
    }
    if (f && std::fclose(f) != 0) written = false;
    if (!written) {
      spdlog::error("bench pipeline: cannot write {}", events);
      return 1;
    }
    spdlog::info("bench pipeline: {} events generated", generated->events.size());
  }

  std::vector<Measurement> runs;
  for (int i = 0; i < o.repeat; ++i) {
    std::string store = (dir.path() / fmt::format("store-{}.db", i)).string();
    auto m = RunOnce(o, **model, events, store);
    if (!m.ok()) {
      spdlog::error("bench pipeline: {}", m.status().ToString());
      return 1;
    }
    spdlog::info("bench pipeline: run {}: {} records in {:.3f} s = {} events/s", i + 1, m->counters.records, m->seconds,
                 pipeline::Thousands(static_cast<uint64_t>(m->counters.records / m->seconds)));
    runs.push_back(*m);
  }
  std::sort(runs.begin(), runs.end(), [](const Measurement& a, const Measurement& b) { return a.seconds < b.seconds; });
  const Measurement& median = runs[runs.size() / 2];
  const double eps = median.counters.records / median.seconds;
  const double mbps = median.counters.bytes / median.seconds / 1e6;
  if (o.common.json) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("benchmark"), w.String("pipeline");
    w.Key("events"), w.Int(static_cast<int64_t>(median.counters.records));
    w.Key("bytes"), w.Int(static_cast<int64_t>(median.counters.bytes));
    w.Key("workers"), w.Int(static_cast<int64_t>(o.common.workers));
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
                pipeline::Thousands(median.counters.records).c_str(), median.counters.bytes / 1e6, o.common.workers,
                std::thread::hardware_concurrency(), o.repeat);
    std::printf("  %.3f s  %s events/s  %.1f MB/s\n", median.seconds,
                pipeline::Thousands(static_cast<uint64_t>(eps)).c_str(), mbps);
  }
  return 0;
}

}  // namespace

void AddBenchPipelineCommand(CLI::App& app) {
  auto o = std::make_shared<BenchPipelineOptions>();
  CLI::App* cmd = BenchCommand(app)->add_subcommand("pipeline", "Events/s of `run`: JSONL events -> analyze -> SQLite");
  AddEndToEndBenchOptions(cmd, &o->common);
  cmd->add_option("--events", o->events, "Events file (default: generate --count events from --corpus)")
      ->envname("SAGAFLOW_BENCH_EVENTS");
  cmd->add_option("--repeat", o->repeat, "Runs (the median is reported)")
      ->envname("SAGAFLOW_BENCH_REPEAT")
      ->check(InRange(1, 100))
      ->capture_default_str();
  cmd->callback([o] { SetExitStatus(RunBenchPipeline(*o)); });
}

}  // namespace sagaflow::cli
