// ClickHouseClient: one HTTP connection to a ClickHouse server (libcurl,
// keep-alive), sending one request per call. It never retries: it reports
// each failure as retriable or not, and the caller (Retrier) decides.
//
// Error contract of every call:
//   kUnavailable      retriable: the server could not be reached or answered
//                     late, or refused for a transient reason (too many parts
//                     or queries, memory limit, ...): the same request may
//                     succeed later;
//   kInvalidArgument  the server refused the request itself (syntax, types,
//                     unknown table, authentication, ...): sending it again
//                     fails again;
//   kCorruption       the answer could not be understood.
// ClickHouse errors are classified by the "Code: N" in the response body
// (or the X-ClickHouse-Exception-Code header), never by the HTTP status,
// which is the same 500 for a memory limit and a broken query.
//
// Not thread-safe: one client per thread (a sink or an analytics object).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sinks/clickhouse/clickhouse_config.h"
#include "util/status.h"

namespace sagaflow::sinks::clickhouse {

// The ClickHouse error code in a response (body "Code: N" or the exception
// header), or 0 if there is none.
int ErrorCodeOf(std::string_view body, std::string_view header_code = {}) noexcept;
// True for codes that describe a transient condition (docs/clickhouse.md).
bool IsRetriableErrorCode(int code) noexcept;

// Counters of one client, readable from any thread.
struct ClientStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};  // requests that failed, retriable or not
  std::atomic<uint64_t> bytes_sent{0};
};

class ClickHouseClient {
 public:
  static Result<std::unique_ptr<ClickHouseClient>> Create(const ClickHouseConfig& config);
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  using Settings = std::vector<std::pair<std::string, std::string>>;

  // Runs one statement (sent as the request body) and returns the response
  // body: the rows of a SELECT ... FORMAT TabSeparated, empty for DDL. The
  // server buffers the whole result (wait_end_of_query), so an error can
  // never arrive after a partial result. `use_database`: run in
  // config.database (off for statements that must run before it exists).
  Result<std::string> Query(std::string_view sql, bool use_database = true);

  // INSERT: `insert_sql` ("INSERT INTO t (a, b) FORMAT TabSeparated") goes in
  // the URL, `rows` in the body. `settings` are passed as URL parameters
  // (e.g. insert_deduplication_token).
  Status Insert(std::string_view insert_sql, std::string_view rows, const Settings& settings = {});

  // Settings sent with every later request (e.g. a cluster's quorum,
  // cluster.h), before the request's own.
  void SetRequestSettings(Settings settings) { request_settings_ = std::move(settings); }

  const ClickHouseConfig& config() const { return config_; }
  const ClientStats& stats() const { return stats_; }
  // The ClickHouse code of the last failed request (0: none or transport).
  int last_error_code() const { return last_error_code_; }

 private:
  explicit ClickHouseClient(const ClickHouseConfig& config);
  Result<std::string> Send(const Settings& params, std::string_view body);

  ClickHouseConfig config_;
  Settings request_settings_;
  void* curl_ = nullptr;  // CURL*
  ClientStats stats_;
  int last_error_code_ = 0;
  size_t node_ = 0;  // config_.NodeAt(node_) takes the requests
};

}  // namespace sagaflow::sinks::clickhouse
