#include "server/http_connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>

#include "server/auth.h"

namespace sagaflow::server {

namespace {

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

const char* MethodLabel(std::string_view m) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}) {
    if (m == known) return known;
  }
  return "other";
}

Connection::Connection(HttpService::Impl& service, tcp::socket socket)
    : service_(service), options_(service.options), stream_(std::move(socket)) {
  beast::error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
  auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = peer.address().to_string();
}

Connection::~Connection() {
  if (counted_) service_.metrics.in_flight->Add(-1);
  service_.Closed(this);
}

void Connection::OnStop() {
  stopping_ = true;
  if (state_ == State::kIdle || state_ == State::kClosing) stream_.close();
}

void Connection::Read(Clock::time_point deadline) {
  stream_.expires_at(deadline);
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&Connection::OnRead, shared_from_this()));
}

void Connection::OnRead(beast::error_code ec, size_t n) {
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

void Connection::Parse() {
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

std::string Connection::BodyLimitMessage() const {
  return fmt::format("request body larger than the limit of {} bytes", options_.max_body_bytes);
}

bool Connection::OnHeader(size_t used, beast::error_code ec) {
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

  if (over_limit || (!parser_->is_done() && verdict_ != 0 && EqualsIgnoreCase(req_.Header("Expect"), "100-continue"))) {
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

void Connection::Decide() {
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

void Connection::Verdict(int status, std::string_view message) {
  verdict_ = status;
  SendError(res_, status, message);
}

void Connection::Handle() {
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

void Connection::RunHandler() {
  try {
    res_.status = 200;
    route_->handler(req_, res_);
  } catch (const std::exception& e) {
    spdlog::error("http: handler of {} failed: {}", route_->path, e.what());
    res_ = {};
    SendError(res_, 500, "internal error");
  }
}

void Connection::Refuse(const wire::Refusal& refused) {
  res_ = {};
  SendError(res_, refused.status, refused.message);
  RespondUnread();
}

void Connection::RespondUnread() {
  linger_ = true;
  Respond(false);
}

void Connection::Respond(bool keep_alive) {
  state_ = State::kWriting;
  keep_alive_ = keep_alive && !stopping_ && served_ + 1 < options_.keep_alive_max_requests;
  out_.clear();
  wire::AppendResponse(res_, head_, keep_alive_, http10_, &out_);
  stream_.expires_after(options_.write_timeout);
  asio::async_write(stream_, asio::buffer(out_), beast::bind_front_handler(&Connection::OnWritten, shared_from_this()));
}

void Connection::OnWritten(beast::error_code ec, size_t) {
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

void Connection::Close() {
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

void Connection::Drain() {
  stream_.async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, size_t n) {
    if (ec || n >= self->linger_left_) {
      self->stream_.close();
      return;
    }
    self->linger_left_ -= n;
    self->Drain();
  });
}

}  // namespace http_internal
}  // namespace sagaflow::server
