// `sagaflow serve`: the HTTP service (docs/http-api.md): /predict and the
// /v1 text and analytics API, /metrics, /healthz, /readyz, /openapi.json
// and the dashboard.
//
// The first line on stdout is the bound address ("http://127.0.0.1:8080"),
// so `--port 0` works for scripts; logs go to stderr (one line per request
// at --log-level debug). SIGINT/SIGTERM stop accepting, answer the requests
// in flight and exit 0 (a second signal exits at once). Exit status: 0
// stopped by a signal, 1 cannot listen or load the model or entities, 2 bad arguments.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "server/api_server.h"
#include "util/redact.h"

namespace sagaflow::cli {
namespace {

struct ServeOptions {
  server::ApiServerOptions api;
  double read_timeout_s = 5;
  double write_timeout_s = 5;
  double idle_timeout_s = 5;
};

// Turns the first SIGINT/SIGTERM into service->Stop(); the second exits.
// The signals must be blocked before any other thread starts, so that they
// reach only this one (BlockStopSignals).
class StopSignals {
 public:
  static void Block(sigset_t* set, sigset_t* old) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, old);
  }
  StopSignals(const sigset_t& set, server::HttpService* service) : set_(set), service_(service) {
    thread_ = std::thread([this] { Watch(); });
  }
  ~StopSignals() {
    done_ = true;
    thread_.join();
  }

 private:
  void Watch() {
    const timespec tick{0, 100'000'000};
    while (!done_) {
      int sig = sigtimedwait(&set_, nullptr, &tick);
      if (sig <= 0) continue;
      if (stopping_) _exit(128 + sig);
      stopping_ = true;
      spdlog::info("serve: {} received: answering the requests in flight, then exiting (again to quit at once)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      service_->Stop();
    }
  }
  sigset_t set_;
  server::HttpService* service_;
  std::atomic<bool> done_{false}, stopping_{false};
  std::thread thread_;
};

int RunServe(ServeOptions o) {
  o.api.http.read_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.read_timeout_s * 1000));
  o.api.http.write_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.write_timeout_s * 1000));
  o.api.http.keep_alive_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.idle_timeout_s * 1000));
  if (!o.api.store.empty()) {
    if (auto uri = pipeline::ParseStoreUri(o.api.store); !uri.ok()) {
      spdlog::error("serve: {}", uri.status().ToString());
      return kExitUsage;
    }
  }
  sigset_t set, old;
  StopSignals::Block(&set, &old);  // before the worker threads exist
  auto api = server::ApiServer::Create(o.api);
  if (!api.ok()) {
    spdlog::error("serve: {}", api.status().ToString());
    return kExitFailure;
  }
  server::HttpService& http = (*api)->http();
  Status st = http.Bind();
  if (!st.ok()) {
    spdlog::error("serve: {}", st.message());
    return 1;
  }
  const std::string address = fmt::format("http://{}:{}", o.api.http.host, http.port());
  std::printf("%s\n", address.c_str());
  std::fflush(stdout);
  spdlog::info("serve: listening on {} ({} I/O threads, {} store threads{}{})", address,
               o.api.http.io_threads == 0 ? std::thread::hardware_concurrency() : o.api.http.io_threads,
               o.api.http.threads, o.api.http.api_token.empty() ? ", no API token" : ", API token required",
               o.api.store.empty() ? ", no store" : ", store " + RedactUri(o.api.store));
  {
    StopSignals signals(set, &http);
    st = http.Run();
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!st.ok()) {
    spdlog::error("serve: {}", st.message());
    return 1;
  }
  spdlog::info("serve: stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  server::HttpServiceOptions& h = o->api.http;
  CLI::App* cmd = app.add_subcommand("serve", "HTTP API: /predict, /v1 text and analytics routes, metrics, dashboard");
  cmd->add_option("--model", o->api.model_path, "Model JSON (sagaflow train or tools/export_sklearn_model.py)")
      ->envname("SAGAFLOW_MODEL")
      ->required();
  cmd->add_option("--entities", o->api.entities_path, "Entity dictionary: curated TSV or flat list")
      ->envname("SAGAFLOW_ENTITIES")
      ->required();
  cmd->add_option("--store", o->api.store, "Store for the analytics: sqlite:PATH or clickhouse://HOST:8123/DB")
      ->envname("SAGAFLOW_STORE");
  cmd->add_option("--store-user", o->api.store_login.user, "ClickHouse user (default: the URI's, else \"default\")")
      ->envname("SAGAFLOW_CLICKHOUSE_USER");
  cmd->add_option("--store-password", o->api.store_login.password, "ClickHouse password (default: the URI's)")
      ->envname("SAGAFLOW_CLICKHOUSE_PASSWORD");
  cmd->add_option("--host", h.host, "Address to listen on (0.0.0.0: every interface)")
      ->envname("SAGAFLOW_HOST")
      ->capture_default_str();
  cmd->add_option("--port", h.port, "TCP port (0: any free port, printed on stdout)")
      ->envname("SAGAFLOW_PORT")
      ->check(InRange(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", h.threads,
                  "Threads for the routes that wait on the store (analytics, /readyz) = store queries at once")
      ->envname("SAGAFLOW_HTTP_THREADS")
      ->check(InRange(1, 4096))
      ->capture_default_str();
  cmd->add_option("--io-threads", h.io_threads, "Threads serving the connections and /predict (0: one per core)")
      ->envname("SAGAFLOW_HTTP_IO_THREADS")
      ->check(InRange(0, 1024))
      ->capture_default_str();
  cmd->add_option("--max-connections", h.max_connections, "Connections open at once (then accepting pauses)")
      ->envname("SAGAFLOW_MAX_CONNECTIONS")
      ->check(InRange(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", h.max_body_bytes, "Largest request body (413 beyond)")
      ->envname("SAGAFLOW_MAX_BODY_BYTES")
      ->check(InRange(size_t{64}, size_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", h.max_header_bytes,
                  "Largest request header, request line included (431 beyond)")
      ->envname("SAGAFLOW_MAX_HEADER_BYTES")
      ->check(InRange(size_t{1024}, size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--max-headers", h.max_header_fields, "Most header fields in a request (431 beyond)")
      ->envname("SAGAFLOW_MAX_HEADERS")
      ->check(InRange(size_t{8}, size_t{10000}))
      ->capture_default_str();
  cmd->add_option("--read-timeout", o->read_timeout_s,
                  "Seconds a client has to send a request's header, and may pause while sending its body")
      ->envname("SAGAFLOW_READ_TIMEOUT")
      ->check(InRange(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o->idle_timeout_s, "Seconds an idle keep-alive connection stays open")
      ->envname("SAGAFLOW_IDLE_TIMEOUT")
      ->check(InRange(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_option("--write-timeout", o->write_timeout_s, "Seconds a client may take to accept a response")
      ->envname("SAGAFLOW_WRITE_TIMEOUT")
      ->check(InRange(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_option("--api-token", h.api_token,
                  "Require Authorization: Bearer TOKEN on every route but /healthz, the dashboard's static files "
                  "and /metrics (unless --metrics-auth)")
      ->envname("SAGAFLOW_API_TOKEN");
  cmd->add_flag("--metrics-auth", h.metrics_require_auth, "/metrics requires the API token too")
      ->envname("SAGAFLOW_METRICS_AUTH");
  cmd->callback([o] { SetExitStatus(RunServe(*o)); });
}

}  // namespace sagaflow::cli
