// HttpService: the HTTP/1.1 server under `serve` and `run --http-port`, on
// Boost.Asio with Boost.Beast's request parser. It owns the listening
// socket, the I/O threads, a pool for routes that wait on a store, and the
// route table, and applies what every route shares:
//   - a strict front (docs/http-api.md, "Strictness"): ambiguous framing
//     (Content-Length twice or with Transfer-Encoding, a transfer coding
//     other than chunked), malformed request or header lines, control bytes
//     in a header, obs-fold, no or two Host headers: 400 and the connection
//     closed; more than max_header_fields fields or max_header_bytes of
//     header: 431; pipelined requests answered in order;
//   - deadlines: a request's header must arrive within read_timeout of its
//     first byte (a slowloris client is closed, 408), its body keep coming
//     (read_timeout per read, body_timeout in all), an idle keep-alive
//     connection closes after keep_alive_timeout. A waiting connection holds
//     no thread: I/O is asynchronous;
//   - routing: unknown path 404, known path with another method 405 (+Allow);
//   - auth: with an API token, every route not marked public requires
//     "Authorization: Bearer <token>" (401 + WWW-Authenticate otherwise),
//     compared in constant time;
//   - bodies (POST): Content-Type must be application/json (415), at most
//     max_body_bytes (413; checked on Content-Length before reading, while
//     reading a chunked body, and while undoing gzip/deflate/br);
//   - errors: every 4xx/5xx is JSON {"error": {"code": N, "message": "..."}};
//   - metrics: requests by route, method and code, latency per route,
//     errors by code, requests in flight (MetricsRegistry below), the
//     process families and sagaflow_build_info (server/process_metrics.h);
//     a debug log line per request on stderr.
//
// Threads: io_threads threads run the connections and the routes that
// answer from memory (/predict: microseconds) inline; routes marked
// `blocking` (analytics and /readyz, which wait on a store) run on a pool of
// `threads` workers, so a slow query never holds an I/O thread and the fast
// routes keep answering. At most max_connections connections are open;
// beyond that accepting pauses (the kernel's backlog holds new ones).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/http_message.h"
#include "server/metrics.h"
#include "util/status.h"

namespace sagaflow::server {

struct HttpServiceOptions {
  // Address to listen on; "0.0.0.0" for every interface.
  std::string host = "127.0.0.1";
  // TCP port; 0 = a free port chosen by the kernel (HttpService::port()).
  int port = 8080;
  // Largest request body accepted (413 beyond), before and after decoding.
  size_t max_body_bytes = size_t{1} << 20;
  // Largest request header (request line and fields) and most header
  // fields: 431 beyond (414 when the request line alone is too long).
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_header_fields = 100;
  // Threads for the blocking routes (analytics queries at once).
  size_t threads = 16;
  // Threads running the connections; 0 = one per core.
  size_t io_threads = 0;
  // Connections open at once; beyond, accepting pauses.
  size_t max_connections = 1024;
  // A request's header must arrive within read_timeout of its first byte;
  // its body may pause at most read_timeout between reads and must arrive
  // within body_timeout; a response not taken within write_timeout is
  // dropped with its connection.
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds write_timeout{5000};
  // Idle keep-alive connections close after this; a connection serves at
  // most keep_alive_max_requests requests.
  std::chrono::milliseconds keep_alive_timeout{5000};
  size_t keep_alive_max_requests = 100000;
  // Non-empty: every route but the public ones (/healthz, the dashboard's
  // static files; /metrics unless metrics_require_auth) requires
  // "Authorization: Bearer <api_token>".
  std::string api_token;
  // /metrics requires the token too (when there is one).
  bool metrics_require_auth = false;
};

using HttpHandler = std::function<void(const HttpRequest& req, HttpResponse& res)>;

enum class Access {
  kToken,    // requires the API token when one is configured
  kPublic,   // never requires it (/healthz; the dashboard's files, which hold no
             // data and must load before a user can enter the token)
  kMetrics,  // requires it only with metrics_require_auth
};

struct Route {
  std::string method;  // "GET" (also answers HEAD) or "POST" (JSON body)
  std::string path;    // exact path, or a prefix ending in '*' ("/assets/*")
  Access access = Access::kToken;
  HttpHandler handler;
  // Waits on something slow (a store): runs on the worker pool, not on an
  // I/O thread.
  bool blocking = false;
};

class HttpService {
 public:
  explicit HttpService(HttpServiceOptions options);
  ~HttpService();  // Stop()s and waits for Run()
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Routes and probes are added before Bind().
  void AddRoute(Route route);
  // GET /healthz (200 while the process serves; public), GET /readyz (200
  // when `ready` returns OK, else 503, naming why to callers with the token;
  // public, for probes; called per probe, on the worker pool) and GET
  // /metrics (the registry's exposition).
  void AddProbes(std::function<Status()> ready);

  // Registry of this service's metrics; add collectors to expose more.
  MetricsRegistry& metrics() { return metrics_; }

  // Binds the listening socket (port 0: a free one).
  Status Bind();
  // The bound port (after Bind()).
  int port() const { return port_; }
  const HttpServiceOptions& options() const { return options_; }

  // Serves until Stop(); returns once the requests in flight are answered.
  Status Run();
  // Bind() if needed, then Run() on a background thread (tests, `run`).
  Status Start();
  // Stops accepting and closes idle connections; Run() returns once the
  // requests in flight are answered. Thread-safe, idempotent, callable
  // before Run() starts (Run() then returns at once). Not
  // async-signal-safe: call it from a thread that waits for signals.
  void Stop();

  // What the connections share (http_service.cc).
  struct Impl;

 private:
  HttpServiceOptions options_;
  MetricsRegistry metrics_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace sagaflow::server
