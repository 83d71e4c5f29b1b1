#include "server/http_wire.h"

#include <brotli/decode.h>
#include <fmt/format.h>
#include <zlib.h>

#include <memory>

#include "util/percent_decode.h"

namespace sagaflow::server::wire {

namespace {

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool ParseQuery(std::string_view query, HttpFields* params) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), true, &name)) return false;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value)) return false;
    params->emplace_back(std::move(name), std::move(value));
  }
  return true;
}

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "";  // RFC 9112 4: the reason phrase may be empty
  }
}

Refusal TooLarge(size_t limit) {
  return {413, fmt::format("request body larger than the limit of {} bytes once decoded", limit)};
}

// zlib's inflate; window_bits 15 + 32 detects a gzip or zlib header, -15
// reads raw deflate.
std::optional<Refusal> Inflate(std::string_view in, int window_bits, size_t limit, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return Refusal{500, "cannot start zlib"};
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char chunk[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) return Refusal{400, "the compressed request body is corrupt"};
    out->append(chunk, sizeof chunk - z.avail_out);
    if (out->size() > limit) return TooLarge(limit);
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      return Refusal{400, "the compressed request body is truncated"};
    }
  }
  if (z.avail_in != 0) return Refusal{400, "data after the end of the compressed request body"};
  return std::nullopt;
}

std::optional<Refusal> Unbrotli(std::string_view in, size_t limit, std::string* out) {
  std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (!state) return Refusal{500, "cannot start brotli"};
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  size_t avail_in = in.size();
  uint8_t chunk[16384];
  for (;;) {
    uint8_t* next_out = chunk;
    size_t avail_out = sizeof chunk;
    const BrotliDecoderResult rc =
        BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
    out->append(reinterpret_cast<const char*>(chunk), sizeof chunk - avail_out);
    if (out->size() > limit) return TooLarge(limit);
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) break;
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) continue;
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) return Refusal{400, "the compressed request body is truncated"};
    return Refusal{400, "the compressed request body is corrupt"};
  }
  if (avail_in != 0) return Refusal{400, "data after the end of the compressed request body"};
  return std::nullopt;
}

}  // namespace

std::optional<Refusal> ParseTarget(std::string_view target, HttpRequest* req) {
  if (target.empty() || target.front() != '/') {
    // absolute-form: scheme "://" authority, then the path (or none: "/").
    const size_t scheme_end = target.find("://");
    const std::string_view scheme = target.substr(0, scheme_end);
    if (scheme_end == std::string_view::npos ||
        !(EqualsIgnoreCase(scheme, "http") || EqualsIgnoreCase(scheme, "https"))) {
      return Refusal{400, "the request target must be a path such as /predict (or an absolute http URI)"};
    }
    const std::string_view rest = target.substr(scheme_end + 3);
    const size_t path_at = rest.find_first_of("/?");
    if (path_at == 0 || rest.empty()) return Refusal{400, "the absolute request target has no host"};
    target = path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
    if (target.front() == '?') {
      // assign(1, '/'), not = "/": GCC 12 at -O2 reports a false -Wrestrict
      // overlap in the inlined copy of the literal (GCC bug 105329).
      req->path.assign(1, '/');
      if (!ParseQuery(target.substr(1), &req->params)) {
        return Refusal{400, "invalid percent-encoding in the query (a % must be followed by two hex digits)"};
      }
      return std::nullopt;
    }
  }
  const size_t q = target.find('?');
  if (!PercentDecode(target.substr(0, q), false, &req->path)) {
    return Refusal{400, "invalid percent-encoding in the path (a % must be followed by two hex digits)"};
  }
  if (q != std::string_view::npos && !ParseQuery(target.substr(q + 1), &req->params)) {
    return Refusal{400, "invalid percent-encoding in the query (a % must be followed by two hex digits)"};
  }
  return std::nullopt;
}

std::optional<Refusal> CheckHeaderBlock(std::string_view block, size_t max_fields) {
  size_t fields = 0;
  size_t at = block.find('\n');  // end of the request line
  while (at != std::string_view::npos && at + 1 < block.size()) {
    const char first = block[at + 1];
    if (first == ' ' || first == '\t') {
      return Refusal{400, "a header line starts with whitespace (obsolete line folding is not accepted)"};
    }
    if (first == '\r' || first == '\n') break;  // the empty line
    if (++fields > max_fields) return Refusal{431, fmt::format("more than {} header fields", max_fields)};
    at = block.find('\n', at + 1);
  }
  return std::nullopt;
}

std::optional<Refusal> CheckFraming(const HttpFields& headers, bool http11) {
  size_t lengths = 0, hosts = 0;
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (++lengths > 1 || value.find(',') != std::string::npos) {
        return Refusal{400, "Content-Length is given more than once"};
      }
    } else if (EqualsIgnoreCase(name, "Host")) {
      ++hosts;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (!http11) return Refusal{400, "Transfer-Encoding in an HTTP/1.0 request"};
      const size_t comma = value.rfind(',');
      const std::string last =
          Trimmed(comma == std::string::npos ? std::string_view(value) : std::string_view(value).substr(comma + 1));
      if (!EqualsIgnoreCase(last, "chunked")) {
        return Refusal{400, fmt::format("Transfer-Encoding \"{}\" does not end with chunked", value)};
      }
      if (comma != std::string::npos) {
        return Refusal{501, fmt::format("Transfer-Encoding \"{}\": only chunked is supported", value)};
      }
    }
  }
  if (http11 && hosts != 1) {
    return Refusal{400, hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "Host is given more than once"};
  }
  return std::nullopt;
}

std::optional<Refusal> DecodeContent(std::string_view encoding, size_t limit, std::string* body) {
  const std::string coding = Trimmed(encoding);
  if (coding.empty() || EqualsIgnoreCase(coding, "identity")) return std::nullopt;
  std::string out;
  std::optional<Refusal> refused;
  if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
    refused = Inflate(*body, 15 + 32, limit, &out);
  } else if (EqualsIgnoreCase(coding, "deflate")) {
    // RFC 9110 8.4.1.2 says zlib format; some clients send raw deflate.
    refused = Inflate(*body, 15, limit, &out);
    if (refused && refused->status == 400) {
      out.clear();
      refused = Inflate(*body, -15, limit, &out);
    }
  } else if (EqualsIgnoreCase(coding, "br")) {
    refused = Unbrotli(*body, limit, &out);
  } else {
    return Refusal{415, fmt::format("Content-Encoding \"{}\" is not supported (gzip, deflate or br)", coding)};
  }
  if (refused) return refused;
  *body = std::move(out);
  return std::nullopt;
}

void AppendResponse(const HttpResponse& res, bool head, bool keep_alive, bool http10, std::string* out) {
  out->append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out->append(std::to_string(res.status)).push_back(' ');
  out->append(Reason(res.status)).append("\r\n");
  if (!res.content_type.empty()) out->append("Content-Type: ").append(res.content_type).append("\r\n");
  out->append("Content-Length: ").append(std::to_string(res.body.size())).append("\r\n");
  if (!keep_alive) {
    out->append("Connection: close\r\n");
  } else if (http10) {
    out->append("Connection: keep-alive\r\n");
  }
  for (const auto& [name, value] : res.headers) out->append(name).append(": ").append(value).append("\r\n");
  out->append("\r\n");
  if (!head) out->append(res.body);
}

}  // namespace sagaflow::server::wire
