// The request and response that route handlers see: sagaflow's own types,
// so no HTTP library type reaches the routes (server/http_service.h parses
// and writes the wire format).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sagaflow::server {

using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // the target's path, percent-decoded
  HttpFields params;   // the query's name=value pairs, decoded ('+' is a space), in order
  HttpFields headers;  // names as sent, in order
  std::string body;    // Content-Encoding undone, at most max_body_bytes (POST routes only)
  std::string remote_address;

  // The first value of header `name` (case-insensitive), "" when absent.
  std::string_view Header(std::string_view name) const;
  // The first value of query parameter `name`, nullopt when absent.
  std::optional<std::string_view> Param(std::string_view name) const;
  size_t ParamCount(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  HttpFields headers;  // besides Content-Type, Content-Length and Connection

  // Replaces a header of that name (case-insensitive) or adds it.
  void SetHeader(std::string_view name, std::string value);
  // The value of header `name`, "" when absent.
  std::string_view Header(std::string_view name) const;
  void SetContent(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
};

// Writes `body` (a JSON document) with the status.
void SendJson(HttpResponse& res, int status, std::string body);
// Writes {"error": {"code": status, "message": message}}; invalid UTF-8 in
// the message (echoed input) is replaced by U+FFFD.
void SendError(HttpResponse& res, int status, std::string_view message);

// ASCII case-insensitive equality (header names, schemes, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept;

}  // namespace sagaflow::server
