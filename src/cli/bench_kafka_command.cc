// `sagaflow bench kafka`: events/s of `run --source kafka://...` end to end.
// Starts librdkafka's mock cluster in process (the dev broker), produces
// --count shared-corpus events (about 5 KB each) from one thread while a
// consumer group reads them into a fresh SQLite store as `run` does, and
// prints events/s, MB/s and the time from the first event produced to the
// last row committed (queryable). The topic has enough partitions for the
// mock's ~5 MB per partition to hold every event, so a consumer that falls
// behind loses nothing. A benchmark, not a test: it prints figures.
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "events/event_generator.h"
#include "kafka/dev_broker.h"
#include "kafka/producer.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "pipeline/report.h"
#include "sinks/sqlite/sqlite_analytics.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "sources/kafka_source.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct BenchKafkaOptions {
  std::string corpus;
  uint64_t count = 50000;
  std::string model;
  std::string entities;
  size_t workers = std::max(1u, std::thread::hardware_concurrency());
  size_t batch_size = 2048;
  int partitions = 0;  // 0 = enough for every event to stay in the mock
  bool json = false;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A sink that notes when its last write became durable.
class TimedSink final : public pipeline::Sink {
 public:
  explicit TimedSink(pipeline::Sink* inner) : inner_(inner) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status Prepare(const pipeline::Dimensions& d) override { return inner_->Prepare(d); }
  Result<std::optional<sources::Checkpoint>> LoadCheckpoint(std::string_view key) override {
    return inner_->LoadCheckpoint(key);
  }
  Result<pipeline::WriteReport> Write(const pipeline::Batch& b) override {
    auto r = inner_->Write(b);
    last_write_ = Clock::now();
    return r;
  }
  Clock::time_point last_write() const { return last_write_; }

 private:
  pipeline::Sink* inner_;
  Clock::time_point last_write_;
};

int RunBenchKafka(const BenchKafkaOptions& o) {
  auto model = pipeline::AnalysisModel::Load(o.model, o.entities);
  if (!model.ok()) {
    spdlog::error("bench kafka: {}", model.status().ToString());
    return 2;
  }
  std::string corpus = o.corpus;
  if (corpus.empty()) {
    const char* env = std::getenv("SAGAFLOW_SHARED");
    corpus = std::string(env && *env ? env : SAGAFLOW_SHARED_DEFAULT) + "/corpus/texts.jsonl";
  }
  uint64_t skipped = 0;
  auto texts = events::LoadCorpus(corpus, &skipped);
  if (!texts.ok()) {
    spdlog::error("bench kafka: {}", texts.status().ToString());
    return 2;
  }
  events::GeneratorOptions g;
  g.count = o.count;
  g.order = events::Order::kRandom;
  g.start_time = 1700000000;
  // Size the topic: the events' bytes over 4 MB per partition (the mock keeps ~5 MB).
  uint64_t total_bytes = 0;
  auto sized = events::GenerateEvents(*texts, g, [&](const events::SourceText&, std::string_view e) {
    total_bytes += e.size();
    return Status::Ok();
  });
  if (!sized.ok()) {
    spdlog::error("bench kafka: {}", sized.status().ToString());
    return 2;
  }
  const int partitions = o.partitions ? o.partitions : static_cast<int>(total_bytes / (4 << 20)) + 2;
  auto broker = kafka::DevBroker::Start({.brokers = 1, .topic = "events", .partitions = partitions});
  if (!broker.ok()) {
    spdlog::error("bench kafka: {}", broker.status().ToString());
    return 1;
  }
  fs::path dir = fs::temp_directory_path() / fmt::format("sagaflow-bench-kafka-{}", ::getpid());
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  spdlog::info("bench kafka: {} events ({:.1f} MB) over {} partitions", o.count, total_bytes / 1e6, partitions);

  auto sqlite = sinks::sqlite::SqliteSink::Open((dir / "store.db").string());
  if (!sqlite.ok()) {
    spdlog::error("bench kafka: {}", sqlite.status().ToString());
    return 1;
  }
  TimedSink sink(sqlite->get());
  sources::KafkaSourceOptions so;
  so.address = {(*broker)->bootstrap(), "events", "bench", {}};
  auto source = sources::KafkaSource::Open(so);
  if (!source.ok()) {
    spdlog::error("bench kafka: {}", source.status().ToString());
    return 1;
  }
  pipeline::PipelineOptions popts;
  popts.workers = o.workers;
  popts.batch_records = o.batch_size;
  popts.stop_when_idle = std::chrono::milliseconds(2000);
  pipeline::PipelineCounters counters("kafka", "sqlite");
  pipeline::Pipeline p(**source, sink, (*model)->classifier, (*model)->matcher, (*model)->dimensions, popts,
                       &counters);

  // The producer starts once the consumer has joined (the mock delays a
  // group's first join by 3 s), so the figures measure the flow, not the join.
  std::atomic<bool> produced{false};
  Status produce_status;
  Clock::time_point first_event, last_delivered;
  std::thread producer([&] {
    while ((*source)->Lag().empty() && !produced) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto prod = kafka::KafkaProducer::Open({(*broker)->bootstrap(), "events", {{"linger.ms", "20"}}});
    if (!prod.ok()) {
      produce_status = prod.status();
      p.RequestStop();
      return;
    }
    first_event = Clock::now();
    auto n = events::GenerateEvents(*texts, g, [&](const events::SourceText& t, std::string_view e) {
      return (*prod)->Send(t.id_json, e);
    });
    produce_status = n.ok() ? (*prod)->Flush(std::chrono::minutes(5)) : n.status();
    last_delivered = Clock::now();
    produced = true;
    if (!produce_status.ok()) p.RequestStop();
  });
  Status st = p.Run();
  produced = true;
  producer.join();
  if (!produce_status.ok() || !st.ok()) {
    spdlog::error("bench kafka: {}", (produce_status.ok() ? st : produce_status).ToString());
    return 1;
  }
  // Queryable: the store answers with every event.
  auto analytics = sinks::sqlite::SqliteAnalytics::Open((dir / "store.db").string());
  auto sagas = analytics.ok() ? (*analytics)->Sagas({}) : Result<std::vector<query::SagaRow>>(analytics.status());
  uint64_t stored = 0;
  if (sagas.ok()) {
    for (const auto& r : *sagas) stored += static_cast<uint64_t>(r.events);
  }
  const auto snap = counters.Snapshot();
  if (stored + snap.rejected != o.count) {
    spdlog::error("bench kafka: the store holds {} events and {} rejected, expected {}", stored, snap.rejected,
                  o.count);
    return 1;
  }
  const double end_to_end = Seconds(sink.last_write() - first_event);
  const double produce_s = Seconds(last_delivered - first_event);
  const double eps = o.count / end_to_end;
  const double mbps = total_bytes / end_to_end / 1e6;
  if (o.json) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("benchmark"), w.String("kafka");
    w.Key("events"), w.Int(static_cast<int64_t>(o.count));
    w.Key("bytes"), w.Int(static_cast<int64_t>(total_bytes));
    w.Key("partitions"), w.Int(partitions);
    w.Key("workers"), w.Int(static_cast<int64_t>(o.workers));
    w.Key("cores"), w.Int(std::thread::hardware_concurrency());
    w.Key("produce_seconds"), w.Double(produce_s);
    w.Key("first_event_to_last_row_seconds"), w.Double(end_to_end);
    w.Key("events_per_second"), w.Double(eps);
    w.Key("mb_per_second"), w.Double(mbps);
    w.EndObject();
    out.push_back('\n');
    std::fputs(out.c_str(), stdout);
  } else {
    std::printf("kafka: %s events (%.1f MB) dev broker (%d partitions) -> consumer group -> sqlite, %zu workers on %u "
                "cores\n",
                pipeline::Thousands(o.count).c_str(), total_bytes / 1e6, partitions, o.workers,
                std::thread::hardware_concurrency());
    std::printf("  first event to last row queryable %.3f s  %s events/s  %.1f MB/s  (all produced after %.3f s)\n",
                end_to_end, pipeline::Thousands(static_cast<uint64_t>(eps)).c_str(), mbps, produce_s);
  }
  return 0;
}

}  // namespace

void AddBenchKafkaCommand(CLI::App& app) {
  // `bench` belongs to bench_command.cc; this adds one benchmark under it.
  auto found = app.get_subcommands([](CLI::App* a) { return a->get_name() == "bench"; });
  CLI::App* bench = found.empty() ? app.add_subcommand("bench", "Benchmarks (figures, not tests)") : found.front();
  if (found.empty()) bench->require_subcommand(1);

  auto o = std::make_shared<BenchKafkaOptions>();
  CLI::App* cmd = bench->add_subcommand(
      "kafka", "Events/s of `run` from Kafka: dev broker -> consumer group -> analyze -> SQLite, end to end");
  cmd->add_option("--corpus", o->corpus, "Corpus (default: $SAGAFLOW_SHARED/corpus/texts.jsonl)")
      ->envname("SAGAFLOW_BENCH_CORPUS");
  cmd->add_option("--count", o->count, "Events")->envname("SAGAFLOW_BENCH_COUNT")->capture_default_str();
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
  cmd->add_option("--partitions", o->partitions, "Topic partitions (default: enough to hold every event)")
      ->envname("SAGAFLOW_BENCH_PARTITIONS")
      ->check(CLI::Range(0, 10000));
  cmd->add_flag("--json", o->json, "Print one JSON object instead of text")->envname("SAGAFLOW_BENCH_JSON");
  cmd->callback([o] { SetExitStatus(RunBenchKafka(*o)); });
}

}  // namespace sagaflow::cli
