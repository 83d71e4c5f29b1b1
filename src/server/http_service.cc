#include "server/http_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "events/excerpt.h"
#include "server/auth.h"
#include "server/process_metrics.h"
#include "util/json_writer.h"

namespace sagaflow::server {

namespace {

using Clock = std::chrono::steady_clock;

// httplib's ThreadPool with a bound on waiting connections: enqueue() (the
// accept loop) waits while the queue is full, so a flood of connections
// cannot grow memory without limit.
class BoundedThreadPool final : public httplib::TaskQueue {
 public:
  BoundedThreadPool(size_t threads, size_t max_queued) : max_queued_(std::max<size_t>(max_queued, 1)) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) threads_.emplace_back([this] { Work(); });
  }
  ~BoundedThreadPool() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_; });
    jobs_.push_back(std::move(fn));
    work_.notify_one();
  }

  // Runs what was queued, then joins the workers.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    work_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shutdown_ and nothing left
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable work_, space_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

// The request being answered on this worker thread, from Dispatch() to the
// logger (which httplib calls once the response is written).
struct RequestContext {
  bool active = false;
  Clock::time_point start;
  const std::string* route = nullptr;  // the matched route's path, or null
};
thread_local RequestContext tls_request;

const std::string kUnmatched = "unmatched";

// Media type of a Content-Type value, lowercased, without parameters.
std::string MediaType(std::string_view content_type) {
  std::string_view m = content_type.substr(0, content_type.find(';'));
  while (!m.empty() && (m.front() == ' ' || m.front() == '\t')) m.remove_prefix(1);
  while (!m.empty() && (m.back() == ' ' || m.back() == '\t')) m.remove_suffix(1);
  std::string out(m);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool Matches(const Route& r, const std::string& path) {
  if (!r.path.empty() && r.path.back() == '*') {
    return path.compare(0, r.path.size() - 1, r.path, 0, r.path.size() - 1) == 0;
  }
  return r.path == path;
}

// Method label: only the methods httplib parses, anything else "other".
const char* MethodLabel(const std::string& m) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}) {
    if (m == known) return known;
  }
  return "other";
}

std::string GenericMessage(int status) {
  switch (status) {
    case 400:
      return "bad request: the request line, headers or body could not be parsed";
    case 404:
      return "not found";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 416:
      return "invalid Range header";
    default:
      return fmt::format("HTTP status {}", status);
  }
}

}  // namespace

void SendJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void SendError(httplib::Response& res, int status, std::string_view message) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("error");
  w.BeginObject();
  w.Key("code");
  w.Int(status);
  w.Key("message");
  w.String(events::Utf8Excerpt(message, 2048));
  w.EndObject();
  w.EndObject();
  SendJson(res, status, body);
}

struct HttpService::Metrics {
  CounterFamily* requests;
  HistogramFamily* latency;
  CounterFamily* errors;
  Gauge* in_flight;
};

HttpService::HttpService(HttpServiceOptions options) : options_(std::move(options)), m_(new Metrics) {
  m_->requests =
      metrics_.AddCounter("sagaflow_http_requests_total", "HTTP requests answered, by route, method and status code",
                          {"route", "method", "code"});
  m_->latency = metrics_.AddHistogram("sagaflow_http_request_duration_seconds",
                                      "Time from routing a request to its response written, by route", {"route"});
  m_->errors =
      metrics_.AddCounter("sagaflow_http_errors_total", "HTTP responses with a 4xx or 5xx status, by code", {"code"});
  m_->in_flight = metrics_.AddGauge("sagaflow_http_requests_in_flight", "HTTP requests being answered")->With({});
  // process_* and sagaflow_build_info: what any scrape of `serve` or `run
  // --http-port` needs to tell restarts, leaks and versions apart.
  metrics_.AddCollector(ProcessCollector());

  const size_t threads = options_.threads, queued = options_.max_queued_connections;
  server_.new_task_queue = [threads, queued] { return new BoundedThreadPool(threads, queued); };
  server_.set_payload_max_length(options_.max_body_bytes);
  server_.set_read_timeout(options_.read_timeout);
  server_.set_write_timeout(options_.write_timeout);
  server_.set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_.set_keep_alive_max_count(std::max<size_t>(options_.keep_alive_max_requests, 1));
  // Responses go out as header and body writes: without TCP_NODELAY, Nagle
  // and delayed ACKs hold the body back ~40 ms.
  server_.set_tcp_nodelay(true);
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second
  // process bind the same port and silently take half of its connections.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  // One entry point for every method and path: routing, 404 and 405 are ours.
  auto plain = [this](const httplib::Request& req, httplib::Response& res) { Dispatch(req, res, nullptr); };
  auto with_body = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    Dispatch(req, res, &reader);
  };
  server_.Get(".*", plain);
  server_.Options(".*", plain);
  server_.Post(".*", with_body);
  server_.Put(".*", with_body);
  server_.Patch(".*", with_body);
  server_.Delete(".*", with_body);
  server_.Delete(".*", plain);
  server_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(std::move(ep));
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("http: handler failed: {}", what);
    SendError(res, 500, "internal error");
  });
  // Responses httplib produced itself (unparsable request, 414, ...) get
  // the JSON error body too.
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) -> httplib::Server::HandlerResponse {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        SendError(res, res.status, GenericMessage(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) { Log(req, res); });
}

HttpService::~HttpService() {
  Stop();
  if (thread_.joinable()) thread_.join();
  if (bound_ && !ran_) {
    // httplib closes its socket only in stop(), which needs a listening
    // server: listen, then stop at once, so a bound port is released.
    std::atomic<bool> done{false};
    std::thread t([&] {
      server_.listen_after_bind();
      done = true;
    });
    while (!server_.is_running() && !done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!done) server_.stop();
    t.join();
  }
}

void HttpService::AddRoute(Route route) { routes_.push_back(std::move(route)); }

bool HttpService::Authorized(const httplib::Request& req) const {
  return options_.api_token.empty() ||
         ConstantTimeEquals(BearerToken(req.get_header_value("Authorization")), options_.api_token);
}

void HttpService::AddProbes(std::function<Status()> ready) {
  AddRoute({"GET", "/healthz", Access::kPublic,
            [](const HttpRequest&, httplib::Response& res) { SendJson(res, 200, "{\"status\":\"ok\"}"); }});
  // Public, because the kubelet and compose probe without credentials; the
  // reason for not being ready (store addresses, errors) is for callers with
  // the token only, and is logged.
  AddRoute({"GET", "/readyz", Access::kPublic,
            [this, ready = std::move(ready)](const HttpRequest& req, httplib::Response& res) {
              Status st = ready();
              if (st.ok()) {
                SendJson(res, 200, "{\"status\":\"ready\"}");
                return;
              }
              spdlog::warn("not ready: {}", st.message());
              SendError(res, 503, Authorized(req.http) ? "not ready: " + st.message() : std::string("not ready"));
            }});
  AddRoute({"GET", "/metrics", Access::kMetrics, [this](const HttpRequest&, httplib::Response& res) {
              res.status = 200;
              res.set_content(metrics_.Render(), kMetricsContentType);
            }});
}

void HttpService::Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
  if (tls_request.active) m_->in_flight->Add(-1);  // a previous request never reached the logger
  tls_request = {true, Clock::now(), nullptr};
  m_->in_flight->Add(1);

  // The verdict is made before reading the body, which is read (bounded)
  // anyway so that a keep-alive connection stays in step.
  const Route* route = nullptr;
  std::string allowed;
  for (const Route& r : routes_) {
    if (!Matches(r, req.path)) continue;
    if (r.method == req.method || (r.method == "GET" && req.method == "HEAD")) {
      if (!route) route = &r;
    } else if (allowed.find(r.method) == std::string::npos) {
      allowed += (allowed.empty() ? "" : ", ") + r.method + (r.method == "GET" ? ", HEAD" : "");
    }
  }
  int status = 0;
  std::string message;
  if (route) {
    tls_request.route = &route->path;
  } else if (!allowed.empty()) {
    status = 405;
    message = fmt::format("method {} is not allowed on {} (allowed: {})", MethodLabel(req.method), req.path, allowed);
    res.set_header("Allow", allowed);
  } else {
    status = 404;
    message = fmt::format("no route {}", req.path);
  }
  if (route &&
      (route->access == Access::kToken || (route->access == Access::kMetrics && options_.metrics_require_auth))) {
    if (!Authorized(req)) {
      const std::string header = req.get_header_value("Authorization");
      status = 401;
      message = header.empty() ? "missing Authorization: Bearer <token>" : "invalid bearer token";
      res.set_header("WWW-Authenticate", header.empty() ? "Bearer realm=\"sagaflow\""
                                                        : "Bearer realm=\"sagaflow\", error=\"invalid_token\"");
    }
  }
  if (status == 0 && route && route->method == "POST") {
    const std::string type = MediaType(req.get_header_value("Content-Type"));
    if (type != "application/json") {
      status = 415;
      message = type.empty() ? "missing Content-Type: the body must be application/json"
                             : fmt::format("Content-Type {} is not supported: the body must be application/json", type);
    }
  }

  std::string body;
  if (reader) {
    // Past the limit the body is drained, not kept, so the connection stays
    // in step for the next request; past kDrainFactor times the limit the
    // read is abandoned (and that connection's next request fails to parse).
    constexpr size_t kDrainFactor = 16;
    const size_t limit = options_.max_body_bytes;
    size_t total = 0;
    bool over = false;
    const bool read = (*reader)([&](const char* data, size_t n) {
      total += n;
      if (total > limit) over = true;
      if (total > limit * kDrainFactor) return false;
      if (status == 0 && !over) body.append(data, n);  // a refused request's body is drained, not kept
      return true;
    });
    if (status == 0 && (over || res.status == 413)) {
      status = 413;
      message = fmt::format("request body larger than the limit of {} bytes", limit);
    } else if (status == 0 && !read) {
      status = 400;
      message = "the request body could not be read (truncated, bad chunked encoding or compression)";
    }
  }
  if (status != 0) {
    SendError(res, status, message);
    return;
  }
  res.status = 200;
  route->handler(HttpRequest{req, body}, res);
}

void HttpService::Log(const httplib::Request& req, const httplib::Response& res) {
  const RequestContext ctx = tls_request;
  tls_request = {};
  const std::string& route = ctx.route ? *ctx.route : kUnmatched;
  const std::string code = std::to_string(res.status);
  m_->requests->With({route, MethodLabel(req.method), code})->Increment();
  if (res.status >= 400) m_->errors->With({code})->Increment();
  double seconds = 0;
  if (ctx.active) {
    m_->in_flight->Add(-1);
    seconds = std::chrono::duration<double>(Clock::now() - ctx.start).count();
    m_->latency->With({route})->Observe(seconds);
  }
  spdlog::debug("http: {} {} {} {} bytes {:.3f} ms ({})", MethodLabel(req.method), events::Utf8Excerpt(req.path, 256),
                res.status, res.body.size(), seconds * 1e3, req.remote_addr);
}

Status HttpService::Bind() {
  if (bound_) return Status::Ok();
  if (options_.port < 0 || options_.port > 65535) {
    return Status::InvalidArgument(fmt::format("port {} is out of range (0..65535)", options_.port));
  }
  if (options_.port == 0) {
    port_ = server_.bind_to_any_port(options_.host);
    if (port_ < 0) return Status::IoError(fmt::format("cannot listen on {} (any port)", options_.host));
  } else {
    if (!server_.bind_to_port(options_.host, options_.port)) {
      return Status::IoError(fmt::format("cannot listen on {}:{} (in use, or not an address of this machine?)",
                                         options_.host, options_.port));
    }
    port_ = options_.port;
  }
  bound_ = true;
  return Status::Ok();
}

Status HttpService::Run() {
  SAGAFLOW_RETURN_IF_ERROR(Bind());
  ran_ = true;
  listening_ = true;
  if (stop_requested_) {
    listening_ = false;
    return Status::Ok();
  }
  const bool clean = server_.listen_after_bind();
  listening_ = false;
  if (!clean && !stop_requested_) return Status::IoError("the listening socket failed");
  return Status::Ok();
}

Status HttpService::Start() {
  SAGAFLOW_RETURN_IF_ERROR(Bind());
  thread_ = std::thread([this] {
    Status st = Run();
    if (!st.ok()) spdlog::error("http: {}", st.ToString());
  });
  // Return once it accepts, so callers may connect at once.
  while (!server_.is_running() && listening_.load() == false && !stop_requested_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  while (listening_ && !server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::Ok();
}

void HttpService::Stop() {
  stop_requested_ = true;
  for (;;) {
    if (server_.is_running()) {
      if (!stop_sent_.exchange(true)) server_.stop();  // httplib's stop() asserts it runs once
      return;
    }
    if (!listening_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace sagaflow::server
