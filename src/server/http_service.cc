#include "server/http_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "events/excerpt.h"
#include "server/auth.h"
#include "server/http_connection.h"
#include "server/process_metrics.h"

namespace sagaflow::server {

namespace {
const std::string kUnmatched = "unmatched";
}  // namespace

void HttpService::Impl::Record(std::string_view method, std::string_view path, const std::string* route, int status,
                               size_t bytes, double seconds, const std::string& remote) const {
  const std::string& label = route ? *route : kUnmatched;
  const std::string code = std::to_string(status);
  metrics.requests->With({label, MethodLabel(method), code})->Increment();
  if (status >= 400) metrics.errors->With({code})->Increment();
  if (seconds >= 0) metrics.latency->With({label})->Observe(seconds);
  spdlog::debug("http: {} {} {} {} bytes {:.3f} ms ({})", MethodLabel(method), events::Utf8Excerpt(path, 256), status,
                bytes, std::max(seconds, 0.0) * 1e3, remote);
}

bool HttpService::Impl::Authorized(const HttpRequest& req) const {
  return options.api_token.empty() || ConstantTimeEquals(BearerToken(req.Header("Authorization")), options.api_token);
}

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
