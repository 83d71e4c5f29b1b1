// What the HTTP service's connections share, and one client connection:
// internal to http_service.cc and http_connection.cc.
#pragma once

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
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/http_service.h"
#include "server/http_wire.h"

namespace sagaflow::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace http_internal {

class Connection;

// Method label: the methods of RFC 9110, anything else "other" (a label
// must not take a client's arbitrary token).
const char* MethodLabel(std::string_view m);

}  // namespace http_internal
using http_internal::Connection;
using http_internal::MethodLabel;

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
              double seconds, const std::string& remote) const;
  bool Authorized(const HttpRequest& req) const;

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
  Connection(HttpService::Impl& service, tcp::socket socket);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  auto executor() { return stream_.get_executor(); }

  void Start() { Parse(); }

  // The service stops: an idle connection closes now, a request being
  // received or answered finishes first and its response closes.
  void OnStop();

 private:
  enum class State { kIdle, kHeader, kBody, kHandling, kWriting, kClosing };
  void Read(Clock::time_point deadline);
  void OnRead(beast::error_code ec, size_t n);

  std::string_view Buffered() const { return {static_cast<const char*>(buffer_.data().data()), buffer_.size()}; }

  // Moves the request(s) in the buffer along; reads when it needs more.
  void Parse();
  std::string BodyLimitMessage() const;

  // A complete header of `used` bytes at the buffer's start. Checks what
  // Beast leaves to us, routes, and decides about the body. False when the
  // request is answered already (or being answered).
  bool OnHeader(size_t used, beast::error_code ec);

  // The verdict before the body: route, 405, auth, media type. On a refusal
  // verdict_ holds the status and res_ the error.
  void Decide();
  void Verdict(int status, std::string_view message);

  // The whole request is in: answer it.
  void Handle();
  void RunHandler();

  // Answers a request refused before routing, then closes.
  void Refuse(const wire::Refusal& refused);

  // Answers with res_ and closes, though the client may still be sending.
  void RespondUnread();
  void Respond(bool keep_alive);
  void OnWritten(beast::error_code ec, size_t);

  // Sends FIN; after a refusal, reads what the client still sends for a
  // while (bounded by the read timeout and kLingerFactor bodies) before
  // closing, so the response is not lost to a reset.
  void Close();
  void Drain();
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
}  // namespace sagaflow::server
