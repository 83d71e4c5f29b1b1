// `sagaflow run`: the embedded pipeline. Reads events from a source, analyses
// them (classify, count entity mentions) on worker threads and commits them
// to a store, exactly once: re-running the same input adds nothing, and a
// run killed at any moment resumes where its last commit ended.
//
// Progress goes to stderr when it is a terminal; the summary to stdout.
// SIGINT/SIGTERM stop reading and commit what was read (a second signal
// exits at once, which is safe too). Exit status (README, "Exit status"): 0
// done, also after a SIGINT/SIGTERM stop that stored and committed everything
// it read (a supervisor's normal stop is not a failure); 1 the run failed
// (model, entities, I/O, store, a source that does not match its committed
// checkpoint), including a stop that had to abandon unstored batches after
// --stop-timeout; 2 bad arguments or addresses; 128+N when a second signal N
// ended it at once.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "pipeline/analysis_model.h"
#include "pipeline/pipeline.h"
#include "pipeline/report.h"
#include "pipeline/store_uri.h"
#include "server/analytics_routes.h"
#include "server/http_service.h"
#include "server/pipeline_metrics.h"
#include "server/run_metrics.h"
#include "sources/open_source.h"

namespace sagaflow::cli {
namespace {

struct RunOptions {
  std::string source = "-";
  std::string store;
  std::string kafka_config;                // --kafka-config FILE
  pipeline::StoreCredentials store_login;  // clickhouse:// only
  std::string model;
  std::string entities;
  size_t workers = std::max(1u, std::thread::hardware_concurrency());
  // 0: the store's default (pipeline::DefaultPipelineOptions).
  size_t batch_size = 0;
  size_t batch_bytes = 0;
  int64_t linger_ms = 0;
  size_t max_event_bytes = events::kDefaultMaxEventBytes;
  std::string progress = "auto";
  std::string summary = "text";
  double stop_when_idle = 0;  // seconds; 0 = run until stopped or the input ends
  double stop_timeout = 30;   // seconds a stop waits for the store before abandoning unstored batches
  int http_port = -1;         // -1 = no HTTP endpoint; 0 = any free port
  std::string http_host = "127.0.0.1";
  std::string instance_id;  // kafka:// group.instance.id; empty = a dynamic member
};

// The probe and metrics endpoint of `run --http-port`: GET /metrics (the
// pipeline's counters, server/pipeline_metrics.h, plus the HTTP service's
// own), /healthz, and /readyz (the pipeline started and the store answers).
// Start it after the signal watcher: its threads inherit the blocked signals.
std::unique_ptr<server::HttpService> StartProbes(const RunOptions& o, const pipeline::PipelineCounters* counters,
                                                 const sources::Source* source, const pipeline::Sink* sink,
                                                 const std::atomic<bool>* started) {
  server::HttpServiceOptions h;
  h.host = o.http_host;
  h.port = o.http_port;
  // The pipeline has the cores; probes and scrapes need little.
  h.io_threads = 1;
  h.threads = 2;
  auto http = std::make_unique<server::HttpService>(h);
  http->metrics().AddCollector(server::PipelineCollector(counters));
  http->metrics().AddCollector(server::BatchLatencyCollector(counters));
  http->metrics().AddCollector(server::StoreCollector(sink->stats()));
  http->metrics().AddCollector(server::ConsumerLagCollector(source));
  auto store = std::make_shared<server::AnalyticsPool>(o.store, o.store_login);
  http->AddProbes([store, started]() -> Status {
    if (!started->load()) return Status::Unavailable("the pipeline has not started");
    auto lease = store->Acquire();
    if (!lease.ok()) return Status::Unavailable("store: " + lease.status().message());
    Status st = (*lease)->Ping();
    if (!st.ok()) {
      lease->Discard();
      return Status::Unavailable("store: " + st.message());
    }
    return Status::Ok();
  });
  Status st = http->Start();
  if (!st.ok()) {
    spdlog::error("run: --http-port: {}", st.message());
    return nullptr;
  }
  spdlog::info("run: metrics and probes on http://{}:{} (/metrics, /healthz, /readyz)", h.host, http->port());
  return http;
}

using Clock = std::chrono::steady_clock;

// "(default: N for sqlite, M for clickhouse)": a batch setting's default per
// store, from pipeline::DefaultPipelineOptions, so that --help says what run
// does (tests/deploy/k8s_manifests_test.mjs checks the deployment files
// against it).
std::string PerStoreDefault(int64_t (*value)(const pipeline::PipelineOptions&)) {
  std::string out = "(default: ";
  for (const char* scheme : {"sqlite", "clickhouse"}) {
    if (out.back() != ' ') out += ", ";
    out += fmt::format("{} for {}", value(pipeline::DefaultPipelineOptions({scheme, ""})), scheme);
  }
  return out + ")";
}

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Waits for SIGINT/SIGTERM (blocked in every thread) and turns the first one
// into a clean stop; exits at once on the second.
// If the stop has not finished after `stop_timeout` (the store is down and
// its writes retry), the pipeline is abandoned: what the store did not
// acknowledge is not committed anywhere and is read again by the next run.
class SignalWatcher {
 public:
  SignalWatcher(pipeline::Pipeline* p, std::chrono::milliseconds stop_timeout)
      : pipeline_(p), stop_timeout_(stop_timeout) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] { Watch(); });
  }
  ~SignalWatcher() {
    done_ = true;
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  int signal() const { return signal_; }

 private:
  void Watch() {
    const timespec tick{0, 100'000'000};
    std::optional<std::chrono::steady_clock::time_point> abandon_at;
    while (!done_) {
      if (abandon_at && std::chrono::steady_clock::now() >= *abandon_at) {
        spdlog::error(
            "run: the store did not acknowledge the last batches within {} ms of the stop: abandoning them "
            "(not committed; the next run reads them again)",
            stop_timeout_.count());
        pipeline_->Abandon();
        abandon_at.reset();
      }
      int sig = sigtimedwait(&set_, nullptr, &tick);
      if (sig <= 0) continue;
      if (signal_) _exit(128 + sig);
      signal_ = sig;
      spdlog::warn("run: {} received: committing what was read, then stopping (again to quit at once)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      pipeline_->RequestStop();
      abandon_at = std::chrono::steady_clock::now() + stop_timeout_;
    }
  }
  pipeline::Pipeline* pipeline_;
  std::chrono::milliseconds stop_timeout_;
  sigset_t set_, old_;
  std::atomic<bool> done_{false};
  std::atomic<int> signal_{0};
  std::thread thread_;
};

// Rewrites one status line on stderr every half second.
class ProgressPrinter {
 public:
  ProgressPrinter(const pipeline::PipelineCounters* counters, const sources::Source* source, bool enabled)
      : counters_(counters), source_(source) {
    if (enabled) thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressPrinter() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    done_ = true;
    thread_.join();
    std::fputs("\r\x1b[K", stderr);
  }

 private:
  void Loop() {
    auto last_time = Clock::now();
    uint64_t last_records = 0;
    while (!done_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (Since(last_time) < 0.5) continue;
      auto s = counters_->Snapshot();
      double rate = (s.records - last_records) / Since(last_time);
      last_time = Clock::now();
      last_records = s.records;
      std::string line = pipeline::ProgressLine(s, rate);
      // Consumer lag: records in the source not yet stored (Kafka).
      auto lag = source_->Lag();
      if (!lag.empty()) {
        int64_t total = 0;
        for (const auto& l : lag) total += std::max<int64_t>(l.lag, 0);
        line += fmt::format("  lag {} ({} partitions)", pipeline::Thousands(static_cast<uint64_t>(total)), lag.size());
      }
      std::fprintf(stderr, "\r\x1b[K%s", line.c_str());
      std::fflush(stderr);
    }
  }
  const pipeline::PipelineCounters* counters_;
  const sources::Source* source_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int RunRun(const RunOptions& o) {
  auto model = pipeline::AnalysisModel::Load(o.model, o.entities);
  if (!model.ok()) {
    spdlog::error("run: {}", model.status().ToString());
    return kExitFailure;
  }
  int status = kExitFailure;
  auto kafka_properties = LoadKafkaConfig("run", o.kafka_config, &status);
  if (!kafka_properties) return status;
  auto source = sources::OpenSource(o.source, o.max_event_bytes, *kafka_properties, o.instance_id);
  if (!source.ok()) {
    spdlog::error("run: {}", source.status().ToString());
    return OpenFailureStatus(source.status());
  }
  auto sink = pipeline::OpenSink(o.store, o.store_login);
  if (!sink.ok()) {
    spdlog::error("run: {}", sink.status().ToString());
    return OpenFailureStatus(sink.status());
  }
  auto store_uri = pipeline::ParseStoreUri(o.store);
  pipeline::PipelineOptions popts =
      store_uri.ok() ? pipeline::DefaultPipelineOptions(*store_uri) : pipeline::PipelineOptions();
  popts.workers = o.workers;
  if (o.batch_size) popts.batch_records = o.batch_size;
  if (o.batch_bytes) popts.batch_bytes = o.batch_bytes;
  if (o.linger_ms) popts.linger = std::chrono::milliseconds(o.linger_ms);
  popts.max_record_bytes = o.max_event_bytes;
  popts.stop_when_idle = std::chrono::milliseconds(static_cast<int64_t>(o.stop_when_idle * 1000));
  pipeline::PipelineCounters counters(o.source.rfind("kafka://", 0) == 0 ? "kafka" : "file",
                                      store_uri.ok() ? store_uri->scheme : "store");
  pipeline::Pipeline pipeline(**source, **sink, (*model)->classifier, (*model)->matcher, (*model)->dimensions, popts,
                              &counters);

  const bool progress = o.progress == "always" || (o.progress == "auto" && ::isatty(STDERR_FILENO));
  const auto start = Clock::now();
  Status st;
  int signal = 0;
  {
    SignalWatcher signals(&pipeline, std::chrono::milliseconds(static_cast<int64_t>(o.stop_timeout * 1000)));
    std::atomic<bool> started{false};
    std::unique_ptr<server::HttpService> http;
    if (o.http_port >= 0) {
      http = StartProbes(o, &counters, source->get(), sink->get(), &started);
      if (!http) return 1;
    }
    ProgressPrinter printer(&counters, source->get(), progress);
    started = true;
    st = pipeline.Run();
    printer.Stop();
    if (http) http->Stop();
    signal = signals.signal();
  }
  pipeline::RunInfo info{(*source)->Describe(), (*sink)->Describe(), Since(start), (*source)->Lag()};
  auto snapshot = counters.Snapshot();
  std::string summary =
      o.summary == "json" ? pipeline::SummaryJson(snapshot, info) : pipeline::SummaryText(snapshot, info);
  std::fputs(summary.c_str(), stdout);
  std::fflush(stdout);
  if (!st.ok()) {
    spdlog::error("run: {}", st.ToString());
    spdlog::error("run: everything before the failure is committed; run again to resume");
    return kExitFailure;
  }
  // A stop that drained completely is a success: everything read is stored
  // and committed (an abandoned stop returned kUnavailable above).
  if (signal) {
    spdlog::info("run: stopped by {}: everything read is stored and committed",
                 signal == SIGINT ? "SIGINT" : "SIGTERM");
  }
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the pipeline: events from a source -> classify + count entities -> star schema in a store");
  cmd->add_option("--source", o->source,
                  "Events: file:PATH (JSON lines), a path, '-' for stdin, or kafka://BROKERS/TOPIC?group=G "
                  "(docs/kafka.md)")
      ->envname("SAGAFLOW_SOURCE")
      ->capture_default_str();
  AddKafkaConfigOption(cmd, &o->kafka_config);
  AddStoreOptions(cmd, &o->store, &o->store_login,
                  "Store: sqlite:PATH or clickhouse://HOST:8123/DB (created if missing)");
  cmd->add_option("--model", o->model, "Model JSON (sagaflow train or tools/export_sklearn_model.py)")
      ->envname("SAGAFLOW_MODEL")
      ->required();
  cmd->add_option("--entities", o->entities, "Entity dictionary: curated TSV or flat list (docs/entities.md)")
      ->envname("SAGAFLOW_ENTITIES")
      ->required();
  cmd->add_option("--workers", o->workers, "Analysis threads (default: the number of cores)")
      ->envname("SAGAFLOW_WORKERS")
      ->check(InRange(1, 256))
      ->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size,
                  "Records per batch, one transaction each " +
                      PerStoreDefault([](const pipeline::PipelineOptions& p) { return int64_t(p.batch_records); }))
      ->envname("SAGAFLOW_BATCH_SIZE")
      ->check(InRange(1, 1 << 20));
  cmd->add_option("--batch-bytes", o->batch_bytes,
                  "Payload bytes per batch at most; memory holds about this times (workers + 2) " +
                      PerStoreDefault([](const pipeline::PipelineOptions& p) { return int64_t(p.batch_bytes); }))
      ->envname("SAGAFLOW_BATCH_BYTES")
      ->check(InRange(size_t{1} << 16, size_t{1} << 32));
  cmd->add_option("--stop-when-idle", o->stop_when_idle,
                  "Exit (0, everything committed) once caught up and nothing new arrived for SECONDS (kafka://)")
      ->envname("SAGAFLOW_STOP_WHEN_IDLE")
      ->check(AtLeast(0));
  cmd->add_option("--stop-timeout", o->stop_timeout,
                  "On SIGTERM/SIGINT, wait this many SECONDS for the store to acknowledge what was read, then abandon "
                  "it unacknowledged (read again by the next run)")
      ->envname("SAGAFLOW_STOP_TIMEOUT")
      ->check(AtLeast(0))
      ->capture_default_str();
  cmd->add_option("--linger-ms", o->linger_ms,
                  "Commit a batch at the latest this long after its first record " +
                      PerStoreDefault([](const pipeline::PipelineOptions& p) { return int64_t(p.linger.count()); }))
      ->envname("SAGAFLOW_LINGER_MS")
      ->check(InRange(1, 600000));
  cmd->add_option("--max-event-bytes", o->max_event_bytes, "Longer records are rejected as too_large")
      ->envname("SAGAFLOW_MAX_EVENT_BYTES")
      ->check(InRange(size_t{64}, size_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--progress", o->progress, "Progress line on stderr: auto (when a terminal), always, never")
      ->envname("SAGAFLOW_PROGRESS")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  cmd->add_option("--summary", o->summary, "Summary on stdout: text or json")
      ->envname("SAGAFLOW_SUMMARY")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--http-port", o->http_port,
                  "Serve /metrics, /healthz and /readyz on this port while running (0: any free port, logged)")
      ->envname("SAGAFLOW_HTTP_PORT")
      ->check(InRange(0, 65535));
  cmd->add_option("--instance-id", o->instance_id,
                  "kafka://: static group membership (group.instance.id), unique per consumer, e.g. the pod name: "
                  "restarted within the session timeout, it gets its partitions back without a rebalance")
      ->envname("SAGAFLOW_INSTANCE_ID");
  cmd->add_option("--http-host", o->http_host, "Address of the --http-port endpoint")
      ->envname("SAGAFLOW_HTTP_HOST")
      ->capture_default_str();
  cmd->callback([o] { SetExitStatus(RunRun(*o)); });
}

}  // namespace sagaflow::cli
