// The analytics routes of `serve` (docs/http-api.md), answering from the
// store through query::Analytics, with the row shapes of
// `sagaflow query --format json` (query/table.h):
//   GET /v1/top-entities?saga=&from=&to=&limit=&by=mentions|readers
//   GET /v1/sagas?from=&to=
//   GET /v1/trend?entity=&saga=&bucket=hour|day&from=&to=
//   GET /v1/saga-trend?bucket=hour|day&from=&to=
//   GET /v1/rejected[?list=true&limit=]
// Parameters are validated before any query (unknown or repeated names,
// invalid UTF-8, over-long values, bad numbers, enums and times are 400s);
// values only ever reach SQL as bound parameters (the stores' contract).
// An unknown saga is 400, an unknown entity 404; a store that cannot be
// reached is 503.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/store_uri.h"
#include "query/analytics.h"
#include "server/http_service.h"
#include "util/redact.h"

namespace sagaflow::server {

// Analytics objects for one store, shared by the worker threads. An
// Analytics object is used by one thread at a time (query/analytics.h), so a
// request leases one for its duration: an idle one, or a new one (its own
// SQLite connection or ClickHouse client). Objects that failed with a
// store-level error are dropped instead of returned, so the next lease
// reconnects. Thread-safe.
class AnalyticsPool {
 public:
  AnalyticsPool(std::string uri, pipeline::StoreCredentials credentials)
      : uri_(std::move(uri)), credentials_(std::move(credentials)) {}

  class Lease {
   public:
    Lease(AnalyticsPool* pool, std::unique_ptr<query::Analytics> a) : pool_(pool), a_(std::move(a)) {}
    Lease(Lease&&) = default;
    ~Lease();
    query::Analytics* operator->() { return a_.get(); }
    query::Analytics& operator*() { return *a_; }
    // The store failed under this object: do not reuse it.
    void Discard() { a_.reset(); }

   private:
    AnalyticsPool* pool_;
    std::unique_ptr<query::Analytics> a_;
  };

  // Errors: those of query::OpenAnalytics (kNotFound: no store there, ...).
  Result<Lease> Acquire();
  // The store's address without its secrets (RedactUri), for messages.
  std::string uri() const { return RedactUri(uri_); }

 private:
  const std::string uri_;
  const pipeline::StoreCredentials credentials_;
  std::mutex mu_;
  std::vector<std::unique_ptr<query::Analytics>> idle_;
};

// `pool` null: no store configured; the routes answer 503 saying so.
void AddAnalyticsRoutes(const std::shared_ptr<AnalyticsPool>& pool, HttpService* service);

inline constexpr int64_t kMaxTopEntitiesLimit = 10000;
inline constexpr int64_t kMaxDeadLettersLimit = 1000;

}  // namespace sagaflow::server
