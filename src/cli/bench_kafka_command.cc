// `sagaflow bench kafka`: events/s of `run --source kafka://...` end to end.
// Starts librdkafka's mock cluster in process (the dev broker), produces
// --count shared-corpus events (about 5 KB each) from one thread while a
// consumer group reads them into a fresh SQLite store as `run` does, and
// prints events/s, MB/s and the time from the first event produced to the
// last row committed (queryable). The mock keeps at most 5 MiB of a
// partition (it drops the oldest records beyond), so the topic gets enough
// partitions for the events the keys put on each of them to fit (computed
// from the data before producing, PartitionFor); a --partitions too small for
// that is refused before anything runs. So a consumer that falls behind, or
// a --preload backlog, loses nothing (and the store is checked to hold every
// event).
// --store clickhouse://... measures the ClickHouse store instead (an empty
// database: the store must end with exactly --count events).
// A benchmark, not a test: it prints figures.
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string_view>
#include <thread>
#include <vector>

#include "cli/bench_support.h"
#include "cli/commands.h"
#include "events/event_generator.h"
#include "kafka/dev_broker.h"
#include "kafka/producer.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "pipeline/report.h"
#include "pipeline/store_uri.h"
#include "query/open_analytics.h"
#include "sources/kafka_source.h"
#include "util/json_writer.h"
#include "util/redact.h"

namespace sagaflow::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct BenchKafkaOptions {
  EndToEndBenchOptions common;
  size_t batch_bytes = 0;  // 0: the store's default
  int64_t linger_ms = 0;   // 0: the store's default
  std::string store;       // empty: a fresh SQLite file in a temporary directory
  pipeline::StoreCredentials login;
  int partitions = 0;        // 0 = the fewest whose every partition the mock keeps whole
  bool preload = false;      // produce everything first, then consume (a backlog)
  bool fast_acks = false;    // acknowledgements durable past a process crash only (the cost of power-loss durability)
  std::string kafka_config;  // --kafka-config FILE: the consumer's and the producer's properties
};

// What one partition of the dev broker may receive: its 5 MiB retention
// (rdkafka_mock.c) less room for record and batch headers.
constexpr uint64_t kPartitionBudget = uint64_t{4} << 20;

// Bytes (keys + values) of the events per key: what the producer's
// partitioner sends together.
std::map<std::string_view, uint64_t> BytesPerKey(const BenchEvents& events) {
  std::map<std::string_view, uint64_t> out;
  for (const BenchEvent& e : events.events) out[e.key] += e.key.size() + e.event.size();
  return out;
}

// Bytes each of `partitions` partitions receives (kafka::PartitionFor).
std::vector<uint64_t> PartitionBytes(const std::map<std::string_view, uint64_t>& per_key, int partitions) {
  std::vector<uint64_t> bytes(partitions);
  for (const auto& [key, n] : per_key) bytes[kafka::PartitionFor(key, partitions)] += n;
  return bytes;
}

uint64_t Largest(const std::vector<uint64_t>& v) { return *std::max_element(v.begin(), v.end()); }

// The fewest partitions (from an even spread upwards) whose fullest one stays
// within the budget; 0 if even 10,000 do not (one key brings over 4 MiB).
int PartitionsFor(const std::map<std::string_view, uint64_t>& per_key, uint64_t total_bytes) {
  for (int n = static_cast<int>(total_bytes / kPartitionBudget) + 1; n <= 10000; ++n) {
    if (Largest(PartitionBytes(per_key, n)) <= kPartitionBudget) return n;
  }
  return 0;
}

// A sink that notes when its last write became durable.
class TimedSink final : public pipeline::Sink {
 public:
  explicit TimedSink(pipeline::Sink* inner) : inner_(inner) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status Prepare(const pipeline::Dimensions& d) override { return inner_->Prepare(d); }
  Status RequirePowerLossDurability() override { return inner_->RequirePowerLossDurability(); }
  Result<std::optional<sources::Checkpoint>> LoadCheckpoint(std::string_view key) override {
    return inner_->LoadCheckpoint(key);
  }
  Result<pipeline::WriteReport> Write(const pipeline::Batch& b) override {
    auto r = inner_->Write(b);
    last_write_ = Clock::now();
    return r;
  }
  void Abandon() noexcept override { inner_->Abandon(); }
  Clock::time_point last_write() const { return last_write_; }

 private:
  pipeline::Sink* inner_;
  Clock::time_point last_write_;
};

// A source that notes when its first record was read.
class TimedSource final : public sources::Source {
 public:
  explicit TimedSource(sources::Source* inner) : inner_(inner) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status Start(sources::CheckpointReader* c) override { return inner_->Start(c); }
  const std::string& StreamKey(uint32_t s) const override { return inner_->StreamKey(s); }
  Result<ReadResult> Next(sources::Record* r) override {
    auto result = inner_->Next(r);
    if (result.ok() && *result == ReadResult::kRecord && first_read_ == Clock::time_point()) first_read_ = Clock::now();
    return result;
  }
  Status Acknowledge(uint32_t s, const sources::Checkpoint& c) override { return inner_->Acknowledge(s, c); }
  Status Finish() override { return inner_->Finish(); }
  std::vector<sources::StreamLag> Lag() const override { return inner_->Lag(); }
  bool KeepsOwnPositions() const override { return inner_->KeepsOwnPositions(); }
  uint64_t LostRecords() const override { return inner_->LostRecords(); }
  void RequestStop() override { inner_->RequestStop(); }
  Clock::time_point first_read() const { return first_read_; }

 private:
  sources::Source* inner_;
  Clock::time_point first_read_;
};

int RunBenchKafka(const BenchKafkaOptions& o) {
  int config_status = kExitFailure;
  const auto kafka_properties = LoadKafkaConfig("bench kafka", o.kafka_config, &config_status);
  if (!kafka_properties) return config_status;
  auto model = pipeline::AnalysisModel::Load(o.common.model, o.common.entities);
  if (!model.ok()) {
    spdlog::error("bench kafka: {}", model.status().ToString());
    return kExitFailure;
  }
  // The events are generated before the clock starts: the figures are the
  // broker's, the consumer's and the store's, not the generator's.
  auto generated = GenerateBenchEvents(o.common.corpus, o.common.count);
  if (!generated.ok()) {
    spdlog::error("bench kafka: {}", generated.status().ToString());
    return kExitFailure;
  }
  const uint64_t total_bytes = generated->bytes;
  // Size the topic from the data: every partition must hold what its keys
  // bring, or the mock drops records before they are read.
  const auto per_key = BytesPerKey(*generated);
  const int partitions = o.partitions ? o.partitions : PartitionsFor(per_key, total_bytes);
  if (partitions == 0) {
    spdlog::error("bench kafka: one article id alone brings over {} MiB of events: fewer --count",
                  kPartitionBudget >> 20);
    return kExitUsage;
  }
  const uint64_t fullest = Largest(PartitionBytes(per_key, partitions));
  if (fullest > kPartitionBudget) {
    spdlog::error(
        "bench kafka: with --partitions {} the fullest partition would receive {:.1f} MB, more than the dev broker "
        "keeps ({} MiB less headers): it would drop records; use --partitions {} or more (or leave it out)",
        partitions, fullest / 1e6, kPartitionBudget >> 20, PartitionsFor(per_key, total_bytes));
    return kExitUsage;
  }
  auto broker = kafka::DevBroker::Start({.brokers = 1, .topic = "events", .partitions = partitions});
  if (!broker.ok()) {
    spdlog::error("bench kafka: {}", broker.status().ToString());
    return 1;
  }
  ScratchDir dir("sagaflow-bench-kafka");
  spdlog::info("bench kafka: {} events ({:.1f} MB) over {} partitions (the fullest receives {:.1f} MB)", o.common.count,
               total_bytes / 1e6, partitions, fullest / 1e6);

  const std::string store = o.store.empty() ? "sqlite:" + (dir.path() / "store.db").string() : o.store;
  auto opened = pipeline::OpenSink(store, o.login);
  if (!opened.ok()) {
    spdlog::error("bench kafka: {}", opened.status().ToString());
    return 1;
  }
  // Every event the store holds at the end must come from this run.
  auto stored_events = [&]() -> Result<uint64_t> {
    auto analytics = query::OpenAnalytics(store, o.login);
    if (!analytics.ok()) return analytics.status();
    auto sagas = (*analytics)->Sagas({});
    if (!sagas.ok()) return sagas.status();
    uint64_t n = 0;
    for (const auto& r : *sagas) n += static_cast<uint64_t>(r.events);
    return n;
  };
  if (auto before = stored_events(); before.ok() && *before > 0) {
    spdlog::error("bench kafka: {} already holds {} events: give an empty database", RedactUri(store), *before);
    return kExitFailure;
  }
  TimedSink sink(opened->get());
  sources::KafkaSourceOptions so;
  so.address = {(*broker)->bootstrap(), "events", "bench", *kafka_properties, {}};
  auto kafka_source = sources::KafkaSource::Open(so);
  if (!kafka_source.ok()) {
    spdlog::error("bench kafka: {}", kafka_source.status().ToString());
    return 1;
  }
  TimedSource source(kafka_source->get());
  pipeline::PipelineOptions popts = pipeline::DefaultPipelineOptions(*pipeline::ParseStoreUri(store));
  popts.workers = o.common.workers;
  if (o.common.batch_size) popts.batch_records = o.common.batch_size;
  if (o.batch_bytes) popts.batch_bytes = o.batch_bytes;
  if (o.linger_ms) popts.linger = std::chrono::milliseconds(o.linger_ms);
  popts.stop_when_idle = std::chrono::milliseconds(2000);
  popts.power_loss_durable_acks = !o.fast_acks;
  pipeline::PipelineCounters counters("kafka", pipeline::ParseStoreUri(store)->scheme);
  pipeline::Pipeline p(source, sink, (*model)->classifier, (*model)->matcher, (*model)->dimensions, popts, &counters);

  // Live (default): the producer starts once the consumer has joined (the
  // mock delays a group's first join by 3 s), so the figures measure the
  // flow, not the join. --preload: everything is produced first.
  std::atomic<bool> produced{false};
  Status produce_status;
  Clock::time_point first_event, last_delivered;
  auto produce = [&] {
    pthread_setname_np(pthread_self(), "sf-produce");
    while (!o.preload && source.Lag().empty() && !produced) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    kafka::Properties producer_properties = *kafka_properties;
    producer_properties.emplace_back("linger.ms", "20");
    auto prod = kafka::KafkaProducer::Open({(*broker)->bootstrap(), "events", std::move(producer_properties)});
    if (!prod.ok()) {
      produce_status = prod.status();
      p.RequestStop();
      return;
    }
    first_event = Clock::now();
    for (const BenchEvent& e : generated->events) {
      produce_status = (*prod)->Send(e.key, e.event);
      if (!produce_status.ok()) break;
    }
    if (produce_status.ok()) produce_status = (*prod)->Flush(std::chrono::minutes(5));
    last_delivered = Clock::now();
    produced = true;
    if (!produce_status.ok()) p.RequestStop();
  };
  std::thread producer;
  if (o.preload) {
    std::thread(produce).join();
  } else {
    producer = std::thread(produce);
  }
  Status st = produce_status.ok() ? p.Run() : produce_status;
  produced = true;
  if (producer.joinable()) producer.join();
  if (!produce_status.ok() || !st.ok()) {
    spdlog::error("bench kafka: {}", (produce_status.ok() ? st : produce_status).ToString());
    return 1;
  }
  // Queryable: the store answers with every event.
  auto stored = stored_events();
  if (!stored.ok()) {
    spdlog::error("bench kafka: {}", stored.status().ToString());
    return 1;
  }
  const auto snap = counters.Snapshot();
  if (*stored + snap.rejected != o.common.count) {
    spdlog::error("bench kafka: the store holds {} events and {} rejected, expected {}", *stored, snap.rejected,
                  o.common.count);
    return 1;
  }
  // Live: from the first event produced; preload: from the first read.
  const double seconds = Seconds(sink.last_write() - (o.preload ? source.first_read() : first_event));
  const double produce_s = Seconds(last_delivered - first_event);
  const double eps = o.common.count / seconds;
  const double mbps = total_bytes / seconds / 1e6;
  if (o.common.json) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("benchmark"), w.String("kafka");
    w.Key("events"), w.Int(static_cast<int64_t>(o.common.count));
    w.Key("bytes"), w.Int(static_cast<int64_t>(total_bytes));
    w.Key("partitions"), w.Int(partitions);
    w.Key("largest_partition_bytes"), w.Int(static_cast<int64_t>(fullest));
    w.Key("store"), w.String(pipeline::ParseStoreUri(store)->scheme);
    w.Key("batch_records"), w.Int(static_cast<int64_t>(popts.batch_records));
    w.Key("batch_bytes"), w.Int(static_cast<int64_t>(popts.batch_bytes));
    w.Key("linger_ms"), w.Int(static_cast<int64_t>(popts.linger.count()));
    w.Key("workers"), w.Int(static_cast<int64_t>(o.common.workers));
    w.Key("cores"), w.Int(std::thread::hardware_concurrency());
    w.Key("produce_seconds"), w.Double(produce_s);
    w.Key("mode"), w.String(o.preload ? "preload" : "live");
    w.Key("acks_durable_past"), w.String(o.fast_acks ? "process crash" : "power loss");
    w.Key(o.preload ? "first_read_to_last_row_seconds" : "first_event_to_last_row_seconds"), w.Double(seconds);
    w.Key("events_per_second"), w.Double(eps);
    w.Key("mb_per_second"), w.Double(mbps);
    w.EndObject();
    out.push_back('\n');
    std::fputs(out.c_str(), stdout);
  } else {
    std::printf(
        "kafka: %s events (%.1f MB) dev broker (%d partitions) -> consumer group -> %s, %zu workers on %u "
        "cores, acknowledgements durable past %s\n",
        pipeline::Thousands(o.common.count).c_str(), total_bytes / 1e6, partitions, sink.Describe().c_str(),
        o.common.workers, std::thread::hardware_concurrency(), o.fast_acks ? "a process crash" : "power loss");
    std::printf("  %s %.3f s  %s events/s  %.1f MB/s  (producing took %.3f s)\n",
                o.preload ? "backlog: first record read to last row queryable"
                          : "live: first event produced to last row queryable",
                seconds, pipeline::Thousands(static_cast<uint64_t>(eps)).c_str(), mbps, produce_s);
  }
  return 0;
}

}  // namespace

void AddBenchKafkaCommand(CLI::App& app) {
  auto o = std::make_shared<BenchKafkaOptions>();
  CLI::App* cmd = BenchCommand(app)->add_subcommand(
      "kafka", "Events/s of `run` from Kafka: dev broker -> consumer group -> analyze -> store, end to end");
  AddEndToEndBenchOptions(cmd, &o->common);
  cmd->add_option("--batch-bytes", o->batch_bytes, "Payload bytes per batch at most (default: the store's)")
      ->envname("SAGAFLOW_BATCH_BYTES")
      ->check(InRange(size_t{1} << 16, size_t{1} << 32));
  cmd->add_option("--linger-ms", o->linger_ms,
                  "Seal a batch at the latest this long after its first record "
                  "(default: the store's; the last batch waits this long)")
      ->envname("SAGAFLOW_LINGER_MS")
      ->check(InRange(1, 600000));
  cmd->add_option("--store", o->store, "Store to fill, empty at start (default: a temporary SQLite file)")
      ->envname("SAGAFLOW_BENCH_STORE");
  cmd->add_option("--store-user", o->login.user, "ClickHouse user")->envname("SAGAFLOW_CLICKHOUSE_USER");
  cmd->add_option("--store-password", o->login.password, "ClickHouse password")
      ->envname("SAGAFLOW_CLICKHOUSE_PASSWORD");
  cmd->add_option("--partitions", o->partitions,
                  "Topic partitions (default: the fewest for which every partition keeps what its keys bring; "
                  "fewer are refused)")
      ->envname("SAGAFLOW_BENCH_PARTITIONS")
      ->check(InRange(0, 10000));
  AddKafkaConfigOption(cmd, &o->kafka_config);
  cmd->add_flag("--preload", o->preload, "Produce every event first, then time the consumer draining the backlog")
      ->envname("SAGAFLOW_BENCH_PRELOAD");
  cmd->add_flag("--fast-acks", o->fast_acks,
                "Store acknowledgements durable past a process crash only, not power loss (SQLite synchronous=NORMAL "
                "instead of FULL): what `run` does not do, to measure its cost")
      ->envname("SAGAFLOW_BENCH_FAST_ACKS");
  cmd->callback([o] { SetExitStatus(RunBenchKafka(*o)); });
}

}  // namespace sagaflow::cli
