#include "server/http_message.h"

#include <algorithm>

#include "events/excerpt.h"
#include "util/json_writer.h"

namespace sagaflow::server {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

std::optional<std::string_view> HttpRequest::Param(std::string_view name) const {
  for (const auto& [n, v] : params) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

size_t HttpRequest::ParamCount(std::string_view name) const {
  return static_cast<size_t>(
      std::count_if(params.begin(), params.end(), [&](const auto& p) { return p.first == name; }));
}

void HttpResponse::SetHeader(std::string_view name, std::string value) {
  for (auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::move(value));
}

std::string_view HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

void SendJson(HttpResponse& res, int status, std::string body) {
  res.status = status;
  res.SetContent(std::move(body), "application/json");
}

void SendError(HttpResponse& res, int status, std::string_view message) {
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
  SendJson(res, status, std::move(body));
}

}  // namespace sagaflow::server
