// HttpService: the HTTP server under `serve` and `run --http-port`, on
// cpp-httplib. It owns the listening socket, a fixed pool of worker threads
// and the route table, and applies what every route shares:
//   - routing: unknown path 404, known path with another method 405 (+Allow);
//   - auth: with an API token, every route not marked public requires
//     "Authorization: Bearer <token>" (401 + WWW-Authenticate otherwise),
//     compared in constant time;
//   - bodies (POST): Content-Type must be application/json (415), at most
//     max_body_bytes (413; checked on Content-Length before reading and again
//     while reading, also for chunked and compressed bodies);
//   - errors: every 4xx/5xx is JSON {"error": {"code": N, "message": "..."}};
//   - metrics: requests by route, method and code, latency per route,
//     errors by code, requests in flight (MetricsRegistry below), the
//     process families and sagaflow_build_info (server/process_metrics.h);
//     a debug log line per request on stderr.
//
// Threads: each worker serves one connection at a time (httplib's model):
// `threads` bounds the connections served at once, max_queued_connections
// the accepted ones waiting; beyond that the accept loop waits (the kernel's
// backlog holds new connections). A client silent for read_timeout while
// sending a request is dropped.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/metrics.h"
#include "util/status.h"

namespace sagaflow::server {

struct HttpServiceOptions {
  // Address to listen on; "0.0.0.0" for every interface.
  std::string host = "127.0.0.1";
  // TCP port; 0 = a free port chosen by the kernel (HttpService::port()).
  int port = 8080;
  // Largest request body accepted (413 beyond), after decompression.
  size_t max_body_bytes = size_t{1} << 20;
  // Worker threads = connections served at once (keep-alive connections
  // hold theirs between requests, up to keep_alive_timeout).
  size_t threads = 16;
  // Accepted connections waiting for a worker before accepting pauses.
  size_t max_queued_connections = 256;
  // A connection that sends nothing for this long while a request is being
  // read (or does not take the response for write_timeout) is dropped.
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  // Idle keep-alive connections close after this; a connection serves at
  // most keep_alive_max_requests requests.
  std::chrono::seconds keep_alive_timeout{5};
  size_t keep_alive_max_requests = 100000;
  // Non-empty: every route but the public ones (/healthz, the dashboard's
  // static files; /metrics unless metrics_require_auth) requires
  // "Authorization: Bearer <api_token>".
  std::string api_token;
  // /metrics requires the token too (when there is one).
  bool metrics_require_auth = false;
};

// What a handler sees of a request: httplib's request (path, params,
// headers) and the body, already size-checked (POST routes only).
struct HttpRequest {
  const httplib::Request& http;
  std::string_view body;
};

using HttpHandler = std::function<void(const HttpRequest& req, httplib::Response& res)>;

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
};

// Writes `body` (a JSON document) with the status.
void SendJson(httplib::Response& res, int status, const std::string& body);
// Writes {"error": {"code": status, "message": message}}; invalid UTF-8 in
// the message (echoed input) is replaced by U+FFFD.
void SendError(httplib::Response& res, int status, std::string_view message);

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
  // public, for probes; called per probe, from a worker thread) and GET
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
  // Stops accepting; Run() returns after in-flight requests. Thread-safe,
  // idempotent, callable before Run() starts (Run() then returns at once).
  // Not async-signal-safe: call it from a thread that waits for signals.
  void Stop();

 private:
  struct Metrics;
  void Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader);
  void Log(const httplib::Request& req, const httplib::Response& res);
  // No API token configured, or the request carries it.
  bool Authorized(const httplib::Request& req) const;

  HttpServiceOptions options_;
  httplib::Server server_;
  std::vector<Route> routes_;
  MetricsRegistry metrics_;
  std::unique_ptr<Metrics> m_;
  int port_ = 0;
  bool bound_ = false;
  bool ran_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> listening_{false};
  std::atomic<bool> stop_sent_{false};
  std::thread thread_;
};

}  // namespace sagaflow::server
