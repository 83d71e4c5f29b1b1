#include "sinks/clickhouse/clickhouse_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace sagaflow::sinks::clickhouse {

namespace {

// Longest error body kept (errors quote the query; results are unbounded).
constexpr size_t kMaxErrorMessage = 2000;

// Transient conditions, by ClickHouse error code (src/Common/ErrorCodes.cpp).
// Everything else (syntax, types, unknown objects, authentication, limits a
// retry cannot change) is not retriable.
constexpr int kRetriableCodes[] = {
    23,    // CANNOT_READ_FROM_ISTREAM: the request body broke off
    24,    // CANNOT_WRITE_TO_OSTREAM
    32,    // ATTEMPT_TO_READ_AFTER_EOF: truncated request (connection dropped)
    33,    // CANNOT_READ_ALL_DATA: idem
    159,   // TIMEOUT_EXCEEDED
    160,   // TOO_SLOW
    173,   // CANNOT_ALLOCATE_MEMORY
    201,   // QUOTA_EXCEEDED (QUOTA_EXPIRED in old releases): waits out the interval
    202,   // TOO_MANY_SIMULTANEOUS_QUERIES
    203,   // NO_FREE_CONNECTION
    209,   // SOCKET_TIMEOUT
    210,   // NETWORK_ERROR
    225,   // NO_ZOOKEEPER
    236,   // ABORTED
    241,   // MEMORY_LIMIT_EXCEEDED
    242,   // TABLE_IS_READ_ONLY (replica lost its coordination service)
    243,   // NOT_ENOUGH_SPACE
    244,   // UNEXPECTED_ZOOKEEPER_ERROR
    252,   // TOO_MANY_PARTS: merges are behind; back off
    279,   // ALL_CONNECTION_TRIES_FAILED
    285,   // TOO_FEW_LIVE_REPLICAS
    286,   // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
    289,   // REPLICA_IS_NOT_IN_QUORUM: a read reached a replica still catching up
    319,   // UNKNOWN_STATUS_OF_INSERT
    373,   // SESSION_IS_LOCKED
    394,   // QUERY_WAS_CANCELLED (server shutting down)
    425,   // SYSTEM_ERROR
    439,   // CANNOT_SCHEDULE_TASK
    473,   // DEADLOCK_AVOIDED
    999,   // KEEPER_EXCEPTION
    1000,  // POCO_EXCEPTION: network errors inside the server
};

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Keeps the X-ClickHouse-Exception-Code header (servers newer than 18.16).
size_t KeepExceptionHeader(char* data, size_t size, size_t n, void* out) {
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "x-clickhouse-exception-code:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      *static_cast<std::string*>(out) = std::string(value);
    }
  }
  return size * n;
}

// Transport failures a later attempt can overcome (the server is down,
// restarting, paused, or the network dropped). Configuration mistakes
// (malformed URL, TLS verification) are not.
bool IsRetriableCurlError(CURLcode c) {
  switch (c) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_CIPHER:
    case CURLE_LOGIN_DENIED:
      return false;
    default:
      return true;
  }
}

std::string Shorten(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s.size() <= kMaxErrorMessage) return std::string(s);
  return fmt::format("{}... ({} bytes)", s.substr(0, kMaxErrorMessage), s.size());
}

std::once_flag curl_init;

}  // namespace

int ErrorCodeOf(std::string_view body, std::string_view header_code) noexcept {
  int code = 0;
  if (!header_code.empty()) {
    auto [p, ec] = std::from_chars(header_code.data(), header_code.data() + header_code.size(), code);
    if (ec == std::errc() && code > 0) return code;
  }
  // 18.16: "Code: 62, e.displayText() = DB::Exception: ..."; 23.x: "Code: 62. DB::Exception: ...".
  constexpr std::string_view kCode = "Code: ";
  const size_t at = body.find(kCode);
  if (at == std::string_view::npos) return 0;
  const char* begin = body.data() + at + kCode.size();
  auto [p, ec] = std::from_chars(begin, body.data() + body.size(), code);
  return ec == std::errc() && p != begin ? code : 0;
}

bool IsRetriableErrorCode(int code) noexcept {
  for (int c : kRetriableCodes) {
    if (c == code) return true;
  }
  return false;
}

Result<std::unique_ptr<ClickHouseClient>> ClickHouseClient::Create(const ClickHouseConfig& config) {
  // Unreadable certificate files fail here, by name, not as a TLS error later.
  for (const auto& [what, path] : {std::pair{"ca_file", &config.ca_file}, std::pair{"cert_file", &config.cert_file},
                                   std::pair{"key_file", &config.key_file}}) {
    if (path->empty()) continue;
    if (std::FILE* f = std::fopen(path->c_str(), "rb")) {
      std::fclose(f);
    } else {
      return Status::InvalidArgument(
          fmt::format("ClickHouse store option {} {}: {}", what, *path, std::strerror(errno)));
    }
  }
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<ClickHouseClient> client(new ClickHouseClient(config));
  if (!client->curl_) return Status::Internal("curl_easy_init failed");
  return client;
}

ClickHouseClient::ClickHouseClient(const ClickHouseConfig& config) : config_(config), curl_(curl_easy_init()) {}

ClickHouseClient::~ClickHouseClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::string> ClickHouseClient::Query(std::string_view sql, bool use_database) {
  Settings params;
  if (use_database) params.emplace_back("database", config_.database);
  params.emplace_back("wait_end_of_query", "1");
  return Send(params, sql);
}

Status ClickHouseClient::Insert(std::string_view insert_sql, std::string_view rows, const Settings& settings) {
  Settings params;
  params.emplace_back("database", config_.database);
  params.emplace_back("query", std::string(insert_sql));
  for (const auto& s : settings) params.push_back(s);
  auto r = Send(params, rows);
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::string> ClickHouseClient::Send(const Settings& params, std::string_view body) {
  CURL* curl = static_cast<CURL*>(curl_);
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  stats_.bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);
  last_error_code_ = 0;

  const ClickHouseConfig::Node node = config_.NodeAt(node_);
  // A retriable failure sends the next request to the cluster's next node
  // (one node: the same): an entry node that is down does not stop writes.
  auto next_node = [&] { node_ = (node_ + 1) % config_.NodeCount(); };
  std::string url = config_.BaseUrl(node_);
  char sep = '?';
  auto append = [&](std::string_view name, const std::string& value) {
    char* escaped = curl_easy_escape(curl, value.data(), static_cast<int>(value.size()));
    if (!escaped) return false;
    url += sep;
    url += name;
    url += '=';
    url += escaped;
    curl_free(escaped);
    sep = '&';
    return true;
  };
  for (const Settings* list : {static_cast<const Settings*>(&request_settings_), &params}) {
    for (const auto& [name, value] : *list) {
      if (!append(name, value)) return Status::Internal("curl_easy_escape failed");
    }
  }
  // Last: settings after readonly=1 would be refused by newer servers.
  if (config_.read_only && !append("readonly", "1")) return Status::Internal("curl_easy_escape failed");

  std::string response, exception_code;
  // The handle is reused (keep-alive); options are set afresh each time.
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, KeepExceptionHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &exception_code);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(curl, CURLOPT_USERNAME, config_.user.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.password.c_str());
  char curl_error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
  if (config_.secure) {
    // Verification stays on (libcurl's default, set explicitly): peer and host name.
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (!config_.cert_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, config_.cert_file.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, config_.key_file.c_str());
    }
  }
  // No "Expect: 100-continue" round trip before large bodies.
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);

  if (rc != CURLE_OK) {
    stats_.failures.fetch_add(1, std::memory_order_relaxed);
    // libcurl's detail names the TLS problem ("unable to get local issuer
    // certificate", "no alternative certificate subject name matches ...").
    std::string msg = fmt::format("ClickHouse at {}:{}: {}{}{}", node.host, node.port, curl_easy_strerror(rc),
                                  curl_error[0] ? ": " : "", curl_error);
    if (!IsRetriableCurlError(rc)) return Status::InvalidArgument(std::move(msg));
    next_node();
    return Status::Unavailable(std::move(msg));
  }
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  if (http == 200) return response;

  stats_.failures.fetch_add(1, std::memory_order_relaxed);
  const int code = ErrorCodeOf(response, exception_code);
  last_error_code_ = code;
  bool retriable;
  std::string kind;
  if (code != 0) {
    retriable = IsRetriableErrorCode(code);
    kind = fmt::format("error {}", code);
  } else {
    // No ClickHouse code: a proxy or load balancer answered. Gateway and
    // availability errors are transient; anything else is not.
    retriable = http == 502 || http == 503 || http == 504 || http == 429;
    kind = fmt::format("HTTP {}", http);
  }
  std::string msg =
      fmt::format("ClickHouse {} ({}): {}", kind, retriable ? "retriable" : "not retriable", Shorten(response));
  if (!retriable) return Status::InvalidArgument(std::move(msg));
  next_node();
  return Status::Unavailable(std::move(msg));
}

}  // namespace sagaflow::sinks::clickhouse
