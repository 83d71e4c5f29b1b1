#include "server/http_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "events/excerpt.h"
#include "server/auth.h"
#include "server/http_wire.h"
#include "server/process_metrics.h"

namespace sagaflow::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kUnmatched = "unmatched";
constexpr size_t kReadChunk = 16384;
// After a response that closes the connection, what the client still sends
// (the rest of a refused body) is read and dropped for a while, so that the
// kernel does not answer it with a reset that could destroy the response
// before the client reads it (the "lingering close" of RFC 9112 9.6).
constexpr size_t kLingerFactor = 16;

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

// Method label: the methods of RFC 9110, anything else "other" (a label
// must not take a client's arbitrary token).
const char* MethodLabel(std::string_view m) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}) {
    if (m == known) return known;
  }
  return "other";
}

// The refusal for a header Beast's parser did not accept.
wire::Refusal ParseRefusal(const beast::error_code& ec, std::string_view received, size_t max_header_bytes) {
  if (ec == bhttp::error::header_limit) {
    const size_t line_end = received.substr(0, max_header_bytes).find('\n');
    if (line_end == std::string_view::npos) {
      return {414, fmt::format("the request line is longer than {} bytes", max_header_bytes)};
    }
    return {431, fmt::format("the request header is larger than {} bytes", max_header_bytes)};
  }
  if (ec == bhttp::error::bad_content_length) {
    return {400, "bad Content-Length (not a number, or given twice with different values, or with Transfer-Encoding)"};
  }
  if (ec == bhttp::error::bad_transfer_encoding) {
    return {400, "bad Transfer-Encoding (chunked twice, or together with Content-Length)"};
  }
  if (ec == bhttp::error::bad_field) return {400, "malformed header line (a name of token characters, then a colon)"};
  if (ec == bhttp::error::bad_value) return {400, "control character in a header value"};
  return {400, fmt::format("malformed request: {}", ec.message())};
}

}  // namespace

namespace http_internal {
class Connection;
}
using http_internal::Connection;

struct HttpService::Impl {
  struct Metrics {
    CounterFamily* requests;
    HistogramFamily* latency;
    CounterFamily* errors;
    Gauge* in_flight;
  };

  Impl(const HttpServiceOptions& o, MetricsRegistry& registry) : options(o), acceptor(asio::make_strand(ioc)) {
    metrics.requests =
        registry.AddCounter("sagaflow_http_requests_total", "HTTP requests answered, by route, method and status code",
                            {"route", "method", "code"});
    metrics.latency = registry.AddHistogram("sagaflow_http_request_duration_seconds",
                                            "Time from routing a request to its response written, by route", {"route"});
    metrics.errors =
        registry.AddCounter("sagaflow_http_errors_total", "HTTP responses with a 4xx or 5xx status, by code", {"code"});
    metrics.in_flight = registry.AddGauge("sagaflow_http_requests_in_flight", "HTTP requests being answered")->With({});
  }

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Closed(Connection* c);
  // Counts and logs an answered request; `route` null: none matched.
  void Record(std::string_view method, std::string_view path, const std::string* route, int status, size_t bytes,
              double seconds, const std::string& remote) const {
    const std::string& label = route ? *route : kUnmatched;
    const std::string code = std::to_string(status);
    metrics.requests->With({label, MethodLabel(method), code})->Increment();
    if (status >= 400) metrics.errors->With({code})->Increment();
    if (seconds >= 0) metrics.latency->With({label})->Observe(seconds);
    spdlog::debug("http: {} {} {} {} bytes {:.3f} ms ({})", MethodLabel(method), events::Utf8Excerpt(path, 256), status,
                  bytes, std::max(seconds, 0.0) * 1e3, remote);
  }
  bool Authorized(const HttpRequest& req) const {
    return options.api_token.empty() || ConstantTimeEquals(BearerToken(req.Header("Authorization")), options.api_token);
  }

  const HttpServiceOptions& options;
  std::vector<Route> routes;
  Metrics metrics{};
  bool bound = false;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> accept_paused{false};
  std::atomic<size_t> open{0};
  std::mutex mu;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  // Destroyed first (declared last): what they still hold may reach the
  // members above.
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::optional<asio::thread_pool> pool;
};

namespace http_internal {

// One client connection. Every member runs on the connection's strand,
// except a blocking route's handler, which runs on the worker pool while the
// connection waits for it (nothing else touches the request then).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpService::Impl& service, tcp::socket socket)
      : service_(service), options_(service.options), stream_(std::move(socket)) {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
  }
  ~Connection() {
    if (counted_) service_.metrics.in_flight->Add(-1);
    service_.Closed(this);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  auto executor() { return stream_.get_executor(); }

  void Start() { Parse(); }

  // The service stops: an idle connection closes now, a request being
  // received or answered finishes first and its response closes.
  void OnStop() {
    stopping_ = true;
    if (state_ == State::kIdle || state_ == State::kClosing) stream_.close();
  }

 private:
  enum class State { kIdle, kHeader, kBody, kHandling, kWriting, kClosing };

  void Read(Clock::time_point deadline) {
    stream_.expires_at(deadline);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            beast::bind_front_handler(&Connection::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t n) {
    if (ec) {
      if (ec == beast::error::timeout && state_ != State::kIdle) {
        spdlog::debug("http: closing a connection that did not send its request in time ({})", remote_);
      }
      stream_.close();
      return;
    }
    buffer_.commit(n);
    Parse();
  }

  std::string_view Buffered() const { return {static_cast<const char*>(buffer_.data().data()), buffer_.size()}; }

  // Moves the request(s) in the buffer along; reads when it needs more.
  void Parse() {
    for (;;) {
      if (state_ == State::kIdle) {
        // RFC 9112 2.2: empty lines before a request line are ignored.
        std::string_view b = Buffered();
        size_t skip = 0;
        while (skip < b.size() && (b[skip] == '\r' || b[skip] == '\n')) ++skip;
        buffer_.consume(skip);
        if (stopping_ && buffer_.size() == 0) {
          stream_.close();
          return;
        }
        if (buffer_.size() == 0) {
          Read(Clock::now() + (served_ == 0 ? options_.read_timeout : options_.keep_alive_timeout));
          return;
        }
        state_ = State::kHeader;
        header_deadline_ = Clock::now() + options_.read_timeout;
        parser_.emplace();
        parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(options_.max_header_bytes, UINT32_MAX)));
        parser_->body_limit(options_.max_body_bytes);
      }
      if (state_ == State::kHeader) {
        beast::error_code ec;
        const size_t used = parser_->put(buffer_.data(), ec);
        if (ec == bhttp::error::need_more) {
          Read(header_deadline_);
          return;
        }
        // A Content-Length over the body limit fails the header's last step
        // (Beast's on_body_init), with the fields parsed: routed like any.
        if (!parser_->is_header_done() && ec != bhttp::error::body_limit) {
          Refuse(ParseRefusal(ec, Buffered(), options_.max_header_bytes));
          return;
        }
        if (!OnHeader(used, ec)) return;
      }
      if (state_ != State::kBody) return;
      if (parser_->is_done()) {
        Handle();
        return;
      }
      if (buffer_.size() == 0) {
        Read(std::min(Clock::now() + options_.read_timeout, body_deadline_));
        return;
      }
      beast::error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) {
        Read(std::min(Clock::now() + options_.read_timeout, body_deadline_));
        return;
      }
      if (ec == bhttp::error::body_limit) {
        if (verdict_ == 0) {
          Refuse({413, BodyLimitMessage()});
        } else {
          RespondUnread();
        }
        return;
      }
      if (ec) {
        Refuse({400, fmt::format("the request body could not be read: {}", ec.message())});
        return;
      }
    }
  }

  std::string BodyLimitMessage() const {
    return fmt::format("request body larger than the limit of {} bytes", options_.max_body_bytes);
  }

  // A complete header of `used` bytes at the buffer's start. Checks what
  // Beast leaves to us, routes, and decides about the body. False when the
  // request is answered already (or being answered).
  bool OnHeader(size_t used, beast::error_code ec) {
    const auto& h = parser_->get();
    if (auto refused = wire::CheckHeaderBlock(Buffered().substr(0, used), options_.max_header_fields)) {
      Refuse(*refused);
      return false;
    }
    buffer_.consume(used);
    http10_ = h.version() < 11;
    req_.method = std::string(h.method_string());
    for (const auto& f : h) req_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    if (auto refused = wire::CheckFraming(req_.headers, !http10_)) {
      Refuse(*refused);
      return false;
    }
    if (auto refused = wire::ParseTarget(h.target(), &req_)) {
      Refuse(*refused);
      return false;
    }
    req_.remote_address = remote_;
    head_ = req_.method == "HEAD";
    const bool over_limit = ec == bhttp::error::body_limit;  // by Content-Length, before reading
    // Beast's keep_alive() asserts a completed header, which a body over
    // the limit leaves unfinished; that connection closes anyway.
    keep_alive_ = !over_limit && parser_->keep_alive();
    start_ = Clock::now();
    counted_ = true;
    service_.metrics.in_flight->Add(1);
    Decide();

    if (over_limit ||
        (!parser_->is_done() && verdict_ != 0 && EqualsIgnoreCase(req_.Header("Expect"), "100-continue"))) {
      // Not reading the body: answer, then close (the body would be taken
      // for the next request).
      if (verdict_ == 0) {
        Refuse({413, BodyLimitMessage()});
      } else {
        RespondUnread();
      }
      return false;
    }
    if (parser_->is_done()) {
      Handle();
      return false;
    }
    state_ = State::kBody;
    body_deadline_ = Clock::now() + options_.body_timeout;
    parser_->eager(true);
    if (EqualsIgnoreCase(req_.Header("Expect"), "100-continue")) {
      out_ = http10_ ? "" : "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(options_.write_timeout);
      asio::async_write(stream_, asio::buffer(out_), [self = shared_from_this()](beast::error_code e, size_t) {
        if (e) {
          self->stream_.close();
          return;
        }
        self->Parse();
      });
      return false;
    }
    return true;
  }

  // The verdict before the body: route, 405, auth, media type. On a refusal
  // verdict_ holds the status and res_ the error.
  void Decide() {
    std::string allowed;
    for (const auto& r : service_.routes) {
      if (!Matches(r, req_.path)) continue;
      if (r.method == req_.method || (r.method == "GET" && head_)) {
        if (!route_) route_ = &r;
      } else if (allowed.find(r.method) == std::string::npos) {
        allowed += (allowed.empty() ? "" : ", ") + r.method + (r.method == "GET" ? ", HEAD" : "");
      }
    }
    if (!route_) {
      if (!allowed.empty()) {
        res_.SetHeader("Allow", allowed);
        Verdict(405, fmt::format("method {} is not allowed on {} (allowed: {})", MethodLabel(req_.method), req_.path,
                                 allowed));
      } else {
        Verdict(404, fmt::format("no route {}", req_.path));
      }
      return;
    }
    if ((route_->access == Access::kToken || (route_->access == Access::kMetrics && options_.metrics_require_auth)) &&
        !service_.Authorized(req_)) {
      const bool missing = req_.Header("Authorization").empty();
      res_.SetHeader("WWW-Authenticate",
                     missing ? "Bearer realm=\"sagaflow\"" : "Bearer realm=\"sagaflow\", error=\"invalid_token\"");
      Verdict(401, missing ? "missing Authorization: Bearer <token>" : "invalid bearer token");
      return;
    }
    if (route_->method == "POST") {
      const std::string type = MediaType(req_.Header("Content-Type"));
      if (type != "application/json") {
        Verdict(415, type.empty()
                         ? "missing Content-Type: the body must be application/json"
                         : fmt::format("Content-Type {} is not supported: the body must be application/json", type));
      }
    }
  }

  void Verdict(int status, std::string_view message) {
    verdict_ = status;
    SendError(res_, status, message);
  }

  // The whole request is in: answer it.
  void Handle() {
    state_ = State::kHandling;
    if (verdict_ != 0) {
      Respond(keep_alive_);
      return;
    }
    if (route_->method == "POST") {
      req_.body = std::move(parser_->get().body());
      if (auto refused = wire::DecodeContent(req_.Header("Content-Encoding"), options_.max_body_bytes, &req_.body)) {
        SendError(res_, refused->status, refused->message);
        Respond(keep_alive_);
        return;
      }
    }
    if (!route_->blocking) {
      RunHandler();
      Respond(keep_alive_);
      return;
    }
    asio::post(*service_.pool, [self = shared_from_this(), work = asio::make_work_guard(service_.ioc)] {
      self->RunHandler();
      asio::dispatch(self->executor(), [self] { self->Respond(self->keep_alive_); });
    });
  }

  void RunHandler() {
    try {
      res_.status = 200;
      route_->handler(req_, res_);
    } catch (const std::exception& e) {
      spdlog::error("http: handler of {} failed: {}", route_->path, e.what());
      res_ = {};
      SendError(res_, 500, "internal error");
    }
  }

  // Answers a request refused before routing, then closes.
  void Refuse(const wire::Refusal& refused) {
    res_ = {};
    SendError(res_, refused.status, refused.message);
    RespondUnread();
  }

  // Answers with res_ and closes, though the client may still be sending.
  void RespondUnread() {
    linger_ = true;
    Respond(false);
  }

  void Respond(bool keep_alive) {
    state_ = State::kWriting;
    keep_alive_ = keep_alive && !stopping_ && served_ + 1 < options_.keep_alive_max_requests;
    out_.clear();
    wire::AppendResponse(res_, head_, keep_alive_, http10_, &out_);
    stream_.expires_after(options_.write_timeout);
    asio::async_write(stream_, asio::buffer(out_),
                      beast::bind_front_handler(&Connection::OnWritten, shared_from_this()));
  }

  void OnWritten(beast::error_code ec, size_t) {
    double seconds = -1;
    if (counted_) {
      counted_ = false;
      service_.metrics.in_flight->Add(-1);
      seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    }
    service_.Record(req_.method, req_.path, route_ ? &route_->path : nullptr, res_.status, res_.body.size(), seconds,
                    remote_);
    if (ec) {
      stream_.close();
      return;
    }
    if (!keep_alive_) {
      Close();
      return;
    }
    ++served_;
    req_ = {};
    res_ = {};
    route_ = nullptr;
    verdict_ = 0;
    head_ = false;
    parser_.reset();
    state_ = State::kIdle;
    Parse();  // a pipelined request may be buffered already
  }

  // Sends FIN; after a refusal, reads what the client still sends for a
  // while (bounded by the read timeout and kLingerFactor bodies) before
  // closing, so the response is not lost to a reset.
  void Close() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec || !linger_ || stopping_) {
      stream_.close();
      return;
    }
    linger_left_ = kLingerFactor * options_.max_body_bytes;
    stream_.expires_after(options_.read_timeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec || n >= self->linger_left_) {
        self->stream_.close();
        return;
      }
      self->linger_left_ -= n;
      self->Drain();
    });
  }

  HttpService::Impl& service_;
  const HttpServiceOptions& options_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  State state_ = State::kIdle;
  std::string remote_;
  HttpRequest req_;
  HttpResponse res_;
  const Route* route_ = nullptr;
  int verdict_ = 0;
  bool head_ = false, http10_ = false, keep_alive_ = true, stopping_ = false, counted_ = false, linger_ = false;
  size_t served_ = 0;
  size_t linger_left_ = 0;
  Clock::time_point start_, header_deadline_, body_deadline_;
  std::string out_;
};

}  // namespace http_internal

void HttpService::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpService::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stop_requested || !acceptor.is_open()) return;
  if (ec) {
    // Out of descriptors or a connection reset before it was accepted:
    // try again shortly rather than spin.
    spdlog::warn("http: accept failed: {}", ec.message());
    auto timer = std::make_shared<asio::steady_timer>(acceptor.get_executor(), std::chrono::milliseconds(50));
    timer->async_wait([this, timer](beast::error_code) { Accept(); });
    return;
  }
  auto c = std::make_shared<Connection>(*this, std::move(socket));
  {
    std::lock_guard<std::mutex> lock(mu);
    connections.emplace(c.get(), c);
  }
  // Counted before it starts: it may finish (and uncount itself) at once.
  const size_t now_open = ++open;
  asio::dispatch(c->executor(), [c] { c->Start(); });
  if (now_open >= options.max_connections) {
    accept_paused = true;
    return;
  }
  Accept();
}

void HttpService::Impl::Closed(Connection* c) {
  {
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(c);
  }
  --open;
  if (accept_paused && !stop_requested) {
    asio::post(acceptor.get_executor(), [this] {
      if (accept_paused.exchange(false) && !stop_requested && acceptor.is_open()) Accept();
    });
  }
}

HttpService::HttpService(HttpServiceOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_, metrics_)) {
  // process_* and sagaflow_build_info: what any scrape of `serve` or `run
  // --http-port` needs to tell restarts, leaks and versions apart.
  metrics_.AddCollector(ProcessCollector());
}

HttpService::~HttpService() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

void HttpService::AddRoute(Route route) { impl_->routes.push_back(std::move(route)); }

void HttpService::AddProbes(std::function<Status()> ready) {
  AddRoute({"GET", "/healthz", Access::kPublic,
            [](const HttpRequest&, HttpResponse& res) { SendJson(res, 200, "{\"status\":\"ok\"}"); }});
  // Public, because the kubelet and compose probe without credentials; the
  // reason for not being ready (store addresses, errors) is for callers with
  // the token only, and is logged. Blocking: it asks the store.
  AddRoute({"GET", "/readyz", Access::kPublic,
            [this, ready = std::move(ready)](const HttpRequest& req, HttpResponse& res) {
              Status st = ready();
              if (st.ok()) {
                SendJson(res, 200, "{\"status\":\"ready\"}");
                return;
              }
              spdlog::warn("not ready: {}", st.message());
              SendError(res, 503, impl_->Authorized(req) ? "not ready: " + st.message() : std::string("not ready"));
            },
            true});
  AddRoute({"GET", "/metrics", Access::kMetrics, [this](const HttpRequest&, HttpResponse& res) {
              res.status = 200;
              res.SetContent(metrics_.Render(), std::string(kMetricsContentType));
            }});
}

Status HttpService::Bind() {
  if (impl_->bound) return Status::Ok();
  if (options_.port < 0 || options_.port > 65535) {
    return Status::InvalidArgument(fmt::format("port {} is out of range (0..65535)", options_.port));
  }
  const std::string where = options_.port == 0 ? fmt::format("{} (any port)", options_.host)
                                               : fmt::format("{}:{}", options_.host, options_.port);
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::IoError(fmt::format("cannot listen on {}: {}", where, ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& a = impl_->acceptor;
  // SO_REUSEADDR only: SO_REUSEPORT would let a second process bind the same
  // port and silently take half of the connections.
  if (a.open(endpoint.protocol(), ec); !ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    a.close(ignored);
    return Status::IoError(
        fmt::format("cannot listen on {} (in use, or not an address of this machine?): {}", where, ec.message()));
  }
  port_ = a.local_endpoint().port();
  impl_->bound = true;
  return Status::Ok();
}

Status HttpService::Run() {
  SAGAFLOW_RETURN_IF_ERROR(Bind());
  if (impl_->stop_requested) return Status::Ok();
  impl_->pool.emplace(std::max<size_t>(options_.threads, 1));
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] { impl->Accept(); });
  size_t io_threads = options_.io_threads;
  if (io_threads == 0) io_threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < io_threads; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
  impl_->pool->join();
  return Status::Ok();
}

Status HttpService::Start() {
  SAGAFLOW_RETURN_IF_ERROR(Bind());
  // The socket listens from Bind() on: connections made before Run()
  // accepts wait in the backlog, so callers may connect at once.
  thread_ = std::thread([this] {
    Status st = Run();
    if (!st.ok()) spdlog::error("http: {}", st.ToString());
  });
  return Status::Ok();
}

void HttpService::Stop() {
  if (impl_->stop_requested.exchange(true)) return;
  // On the acceptor's strand, after any accept in progress registered its
  // connection: close the socket, then tell every connection.
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      for (auto& [_, weak] : impl->connections) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
    }
    for (auto& c : open) asio::dispatch(c->executor(), [c] { c->OnStop(); });
  });
}

}  // namespace sagaflow::server
