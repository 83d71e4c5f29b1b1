#include "server/analytics_routes.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>

#include "query/open_analytics.h"
#include "query/table.h"
#include "query/time_format.h"
#include "text/unicode.h"

namespace sagaflow::server {

AnalyticsPool::Lease::~Lease() {
  if (!a_) return;
  std::lock_guard<std::mutex> lock(pool_->mu_);
  pool_->idle_.push_back(std::move(a_));
}

Result<AnalyticsPool::Lease> AnalyticsPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto a = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(a));
    }
  }
  auto a = query::OpenAnalytics(uri_, credentials_);
  if (!a.ok()) return a.status();
  return Lease(this, std::move(*a));
}

namespace {

constexpr size_t kMaxParamBytes = 512;

// The query parameters of one request, checked against the names a route
// accepts.
class Params {
 public:
  // Fails (400 written) on a name not in `allowed`, a repeated name, a value
  // that is not UTF-8 or longer than kMaxParamBytes.
  static std::optional<Params> Check(const HttpRequest& req, const std::vector<std::string_view>& allowed,
                                     HttpResponse& res) {
    Params p;
    for (const auto& [name, value] : req.params) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string names;
        for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
        SendError(res, 400,
                  fmt::format("unknown parameter \"{}\" (accepted: {})", name, names.empty() ? "none" : names));
        return std::nullopt;
      }
      if (req.ParamCount(name) > 1) {
        SendError(res, 400, fmt::format("parameter \"{}\" given more than once", name));
        return std::nullopt;
      }
      if (!text::IsValidUtf8(value)) {
        SendError(res, 400, fmt::format("parameter \"{}\" is not valid UTF-8", name));
        return std::nullopt;
      }
      if (value.size() > kMaxParamBytes) {
        SendError(res, 400, fmt::format("parameter \"{}\" is longer than {} bytes", name, kMaxParamBytes));
        return std::nullopt;
      }
    }
    p.req_ = &req;
    return p;
  }

  std::optional<std::string> Get(const char* name) const {
    auto v = req_->Param(name);
    if (!v) return std::nullopt;
    return std::string(*v);
  }

  // from/to as a TimeRange.
  bool Range(query::TimeRange* r, HttpResponse& res) const {
    for (const char* name : {"from", "to"}) {
      auto v = Get(name);
      if (!v) continue;
      auto t = query::ParseTime(*v);
      if (!t.ok()) {
        SendError(res, 400, fmt::format("parameter \"{}\": {}", name, t.status().message()));
        return false;
      }
      (name[0] == 'f' ? r->from : r->to) = *t;
    }
    if (r->from && r->to && *r->from > *r->to) {
      SendError(res, 400, fmt::format("\"from\" ({}) is after \"to\" ({})", *Get("from"), *Get("to")));
      return false;
    }
    return true;
  }

  bool Bucket(query::Bucket* b, HttpResponse& res) const {
    auto v = Get("bucket");
    if (!v || *v == "day") {
      *b = query::Bucket::kDay;
    } else if (*v == "hour") {
      *b = query::Bucket::kHour;
    } else {
      SendError(res, 400, fmt::format("parameter \"bucket\" must be hour or day, not \"{}\"", *v));
      return false;
    }
    return true;
  }

  bool Int(const char* name, int64_t lo, int64_t hi, int64_t* out, HttpResponse& res) const {
    auto v = Get(name);
    if (!v) return true;
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size() || v->empty() || n < lo || n > hi) {
      SendError(res, 400, fmt::format("parameter \"{}\" must be an integer in {}..{}, not \"{}\"", name, lo, hi, *v));
      return false;
    }
    *out = n;
    return true;
  }

  bool Required(const char* name, std::string* out, HttpResponse& res) const {
    auto v = Get(name);
    if (!v || v->empty()) {
      SendError(res, 400, fmt::format("parameter \"{}\" is required", name));
      return false;
    }
    *out = std::move(*v);
    return true;
  }

 private:
  const HttpRequest* req_ = nullptr;
};

// HTTP status for a failed analytics call.
int StatusFor(const Status& st) {
  switch (st.code()) {
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      // Both stores word it "unknown entity ..." / "unknown saga ...": an
      // entity is a resource (404), a saga a parameter value (400).
      return st.message().rfind("unknown entity", 0) == 0 ? 404 : 400;
    case Status::Code::kUnavailable:
    case Status::Code::kIoError:
      return 503;
    default:
      return 500;
  }
}

template <typename Rows>
void Reply(const Result<Rows>& rows, AnalyticsPool::Lease& lease, HttpResponse& res) {
  if (!rows.ok()) {
    const int status = StatusFor(rows.status());
    if (status >= 500) lease.Discard();
    SendError(res, status, rows.status().message());
    return;
  }
  SendJson(res, 200, query::Render(query::ToTable(*rows), query::Format::kJson));
}

using Query = std::function<void(const Params&, AnalyticsPool::Lease&, HttpResponse&)>;

void Add(HttpService* service, const std::shared_ptr<AnalyticsPool>& pool, const char* path,
         std::vector<std::string_view> params, Query query) {
  service->AddRoute(
      {"GET", path, Access::kToken,
       [pool, params = std::move(params), query = std::move(query)](const HttpRequest& req, HttpResponse& res) {
         auto p = Params::Check(req, params, res);
         if (!p) return;
         if (!pool) {
           SendError(res, 503, "no store configured (serve --store sqlite:PATH|clickhouse://...)");
           return;
         }
         auto lease = pool->Acquire();
         if (!lease.ok()) {
           SendError(res, 503, "store unavailable: " + lease.status().message());
           return;
         }
         query(*p, *lease, res);
       },
       /*blocking=*/true});
}

}  // namespace

void AddAnalyticsRoutes(const std::shared_ptr<AnalyticsPool>& pool, HttpService* service) {
  Add(service, pool, "/v1/top-entities", {"saga", "from", "to", "limit", "by"},
      [](const Params& p, AnalyticsPool::Lease& a, HttpResponse& res) {
        query::TopEntitiesQuery q;
        if (!p.Required("saga", &q.saga, res) || !p.Range(&q.range, res) ||
            !p.Int("limit", 0, kMaxTopEntitiesLimit, &q.limit, res)) {
          return;
        }
        auto by = p.Get("by");
        if (by && *by == "readers") {
          q.by = query::Measure::kReaders;
        } else if (by && *by != "mentions") {
          SendError(res, 400, fmt::format("parameter \"by\" must be mentions or readers, not \"{}\"", *by));
          return;
        }
        Reply(a->TopEntities(q), a, res);
      });
  Add(service, pool, "/v1/sagas", {"from", "to"}, [](const Params& p, AnalyticsPool::Lease& a, HttpResponse& res) {
    query::TimeRange range;
    if (!p.Range(&range, res)) return;
    Reply(a->Sagas(range), a, res);
  });
  Add(service, pool, "/v1/trend", {"entity", "saga", "bucket", "from", "to"},
      [](const Params& p, AnalyticsPool::Lease& a, HttpResponse& res) {
        query::TrendQuery q;
        if (!p.Required("entity", &q.entity, res) || !p.Bucket(&q.bucket, res) || !p.Range(&q.range, res)) return;
        if (auto saga = p.Get("saga")) {
          if (saga->empty()) {
            SendError(res, 400, "parameter \"saga\" is empty (leave it out for every saga)");
            return;
          }
          q.saga = std::move(*saga);
        }
        Reply(a->Trend(q), a, res);
      });
  Add(service, pool, "/v1/saga-trend", {"bucket", "from", "to"},
      [](const Params& p, AnalyticsPool::Lease& a, HttpResponse& res) {
        query::Bucket bucket;
        query::TimeRange range;
        if (!p.Bucket(&bucket, res) || !p.Range(&range, res)) return;
        Reply(a->SagaTrend(range, bucket), a, res);
      });
  Add(service, pool, "/v1/rejected", {"list", "limit"},
      [](const Params& p, AnalyticsPool::Lease& a, HttpResponse& res) {
        auto list = p.Get("list");
        if (list && *list != "true" && *list != "false") {
          SendError(res, 400, fmt::format("parameter \"list\" must be true or false, not \"{}\"", *list));
          return;
        }
        int64_t limit = 20;
        if (!p.Int("limit", 1, kMaxDeadLettersLimit, &limit, res)) return;
        if (list && *list == "true") {
          Reply(a->DeadLetters(limit), a, res);
        } else if (p.Get("limit")) {
          SendError(res, 400, "parameter \"limit\" applies only with list=true");
        } else {
          Reply(a->Rejected(), a, res);
        }
      });
}

}  // namespace sagaflow::server
