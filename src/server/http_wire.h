// The parts of HTTP/1.1 (RFC 9112) that HttpService applies around
// Boost.Beast's parser, with no socket involved (unit-tested alone):
//   - the request target: origin-form or absolute-form, percent-decoded;
//   - checks of the raw header block that Beast leaves to the caller
//     (obs-fold, the number of fields) and of the parsed framing fields
//     (repeated Content-Length, Transfer-Encoding other than chunked, Host);
//   - request bodies' Content-Encoding (gzip, deflate, br) undone within a
//     size limit;
//   - writing a response.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/http_message.h"

namespace sagaflow::server::wire {

// A request refused before any route sees it: the status (400, 413, 414,
// 415, 431, 501) and why.
struct Refusal {
  int status;
  std::string message;
};

// Splits a request target into the decoded path and query parameters.
// Accepts origin-form ("/p?q") and absolute-form ("http://host/p?q", which
// RFC 9112 3.2.2 says a server must accept); anything else, or invalid
// percent-encoding, is a 400.
std::optional<Refusal> ParseTarget(std::string_view target, HttpRequest* req);

// The header block as received (request line, field lines, the empty line),
// already accepted by Beast: refuses obs-fold (a line starting with a space
// or tab, which Beast would join to the previous value; RFC 9112 5.2 lets a
// server reject it) and more than `max_fields` field lines (431).
std::optional<Refusal> CheckHeaderBlock(std::string_view block, size_t max_fields);

// The framing fields of a parsed header (names and values as sent; Beast
// has refused differing Content-Length values and Content-Length together
// with Transfer-Encoding): a Content-Length given twice or as a list, even
// with one value, is a 400 (RFC 9112 6.3 lets a server reject it, and a
// proxy in front may have picked the other); Transfer-Encoding must be
// exactly "chunked" (another last coding: 400; another coding before
// chunked: 501) and only in HTTP/1.1; HTTP/1.1 needs exactly one Host
// (RFC 9112 3.2).
std::optional<Refusal> CheckFraming(const HttpFields& headers, bool http11);

// Undoes a Content-Encoding of `body` in place: "", "identity", "gzip",
// "x-gzip", "deflate" (zlib or raw) and "br"; another coding is a 415, a
// corrupt body a 400, a decoded body over `limit` bytes a 413.
std::optional<Refusal> DecodeContent(std::string_view encoding, size_t limit, std::string* body);

// Appends the response's status line, headers and (unless `head`) body.
// `keep_alive` false adds "Connection: close"; `http10` answers HTTP/1.0
// (with "Connection: keep-alive" when keeping it).
void AppendResponse(const HttpResponse& res, bool head, bool keep_alive, bool http10, std::string* out);

}  // namespace sagaflow::server::wire
