// `sagaflow query`: the analytics of a store.
//   top-entities --saga S [--from T] [--to T] [--limit N] [--by mentions|readers]
//   sagas [--from T] [--to T]
//   rejected [--list [--limit N]]
//   trend --entity NAME [--saga S] [--bucket hour|day] [--from T] [--to T]
//   saga-trend [--bucket hour|day] [--from T] [--to T]
// Times: unix seconds or ISO 8601, windows include both ends. Output: an
// aligned table on a terminal, JSON otherwise, or as --format says.
// Exit status: 0 answered, 2 bad arguments / unknown saga or entity / no
// store, 1 other failures.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "cli/commands.h"
#include "query/open_analytics.h"
#include "query/table.h"
#include "query/time_format.h"

namespace sagaflow::cli {
namespace {

struct QueryOptions {
  std::string store;
  pipeline::StoreCredentials store_login;  // clickhouse:// only
  std::string format = "auto";
  std::string from, to;
  std::string saga, entity;
  int64_t limit = 8;
  std::string by = "mentions";
  std::string bucket = "day";
  bool list = false;
};

// Exit status for a failed query: a question the store cannot answer as
// asked (an unknown saga or entity, a bad time) is a usage error.
int Fail(const Status& st) {
  spdlog::error("query: {}", st.message());
  switch (st.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
      return kExitUsage;
    default:
      return kExitFailure;
  }
}

Result<query::TimeRange> Range(const QueryOptions& o) {
  query::TimeRange r;
  if (!o.from.empty()) {
    auto t = query::ParseTime(o.from);
    if (!t.ok()) return t.status().WithContext("--from");
    r.from = *t;
  }
  if (!o.to.empty()) {
    auto t = query::ParseTime(o.to);
    if (!t.ok()) return t.status().WithContext("--to");
    r.to = *t;
  }
  if (r.from && r.to && *r.from > *r.to) {
    return Status::InvalidArgument(fmt::format("--from {} is after --to {}", o.from, o.to));
  }
  return r;
}

template <typename Rows>
int Print(const Result<Rows>& rows, const QueryOptions& o) {
  if (!rows.ok()) return Fail(rows.status());
  query::Format format;
  if (o.format == "auto") {
    format = ::isatty(STDOUT_FILENO) ? query::Format::kTable : query::Format::kJson;
  } else {
    auto f = query::ParseFormat(o.format);
    if (!f.ok()) return Fail(f.status());
    format = *f;
  }
  std::string out = query::Render(query::ToTable(*rows), format);
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return kExitFailure;
  return kExitSuccess;
}

int RunQuery(const std::string& what, const QueryOptions& o) {
  auto range = Range(o);
  if (!range.ok()) return Fail(range.status());
  auto analytics = query::OpenAnalytics(o.store, o.store_login);
  if (!analytics.ok()) {  // no store there is a runtime failure, a malformed address a usage error
    spdlog::error("query: {}", analytics.status().message());
    return OpenFailureStatus(analytics.status());
  }
  query::Analytics& a = **analytics;
  if (what == "top-entities") {
    query::TopEntitiesQuery q;
    q.saga = o.saga;
    q.range = *range;
    q.limit = o.limit;
    q.by = o.by == "readers" ? query::Measure::kReaders : query::Measure::kMentions;
    return Print(a.TopEntities(q), o);
  }
  if (what == "sagas") return Print(a.Sagas(*range), o);
  if (what == "rejected") {
    if (o.list) return Print(a.DeadLetters(o.limit), o);
    return Print(a.Rejected(), o);
  }
  const query::Bucket bucket = o.bucket == "hour" ? query::Bucket::kHour : query::Bucket::kDay;
  if (what == "saga-trend") return Print(a.SagaTrend(*range, bucket), o);
  query::TrendQuery q;
  q.entity = o.entity;
  if (!o.saga.empty()) q.saga = o.saga;
  q.bucket = bucket;
  q.range = *range;
  return Print(a.Trend(q), o);
}

void AddWindow(CLI::App* cmd, QueryOptions* o) {
  cmd->add_option("--from", o->from, "Start of the window (inclusive): unix seconds or ISO 8601")
      ->envname("SAGAFLOW_FROM");
  cmd->add_option("--to", o->to, "End of the window (inclusive): unix seconds or ISO 8601")->envname("SAGAFLOW_TO");
}

}  // namespace

void AddQueryCommand(CLI::App& app) {
  auto o = std::make_shared<QueryOptions>();
  CLI::App* cmd = app.add_subcommand("query", "Analytics over a store (top entities, sagas, rejected, trend)");
  cmd->require_subcommand(1);
  cmd->fallthrough();  // --store/--format may also follow the query name
  AddStoreOptions(cmd, &o->store, &o->store_login, "Store: sqlite:PATH or clickhouse://HOST:8123/DB");
  cmd->add_option("--format", o->format, "auto (table on a terminal, else json), table, json or csv")
      ->envname("SAGAFLOW_FORMAT")
      ->check(CLI::IsMember({"auto", "table", "json", "csv"}))
      ->capture_default_str();

  CLI::App* top =
      cmd->add_subcommand("top-entities", "Most mentioned entities of a saga (the prototype's analytics.sql)");
  top->add_option("--saga", o->saga, "Saga: got, lotr, hp, ...")->envname("SAGAFLOW_SAGA")->required();
  AddWindow(top, o.get());
  top->add_option("--limit", o->limit, "Rows (0 = all)")
      ->envname("SAGAFLOW_LIMIT")
      ->check(AtLeast(0))
      ->capture_default_str();
  top->add_option("--by", o->by, "Order by total mentions or total readers")
      ->envname("SAGAFLOW_BY")
      ->check(CLI::IsMember({"mentions", "readers"}))
      ->capture_default_str();

  CLI::App* sagas = cmd->add_subcommand("sagas", "Events and readers per saga; empty texts as a row of their own");
  AddWindow(sagas, o.get());

  CLI::App* rejected = cmd->add_subcommand("rejected", "Dead-lettered records by reason");
  rejected->add_flag("--list", o->list, "List the newest dead letters (position, reason, excerpt) instead");
  rejected->add_option("--limit", o->limit, "With --list: rows (0 = all)")->check(AtLeast(0));

  CLI::App* trend = cmd->add_subcommand("trend", "Mentions and readers of an entity over time");
  trend->add_option("--entity", o->entity, "Canonical entity name, e.g. \"Jon Snow\"")
      ->envname("SAGAFLOW_ENTITY")
      ->required();
  trend->add_option("--saga", o->saga, "Only events of this saga")->envname("SAGAFLOW_SAGA");
  trend->add_option("--bucket", o->bucket, "hour or day (UTC)")
      ->envname("SAGAFLOW_BUCKET")
      ->check(CLI::IsMember({"hour", "day"}))
      ->capture_default_str();
  AddWindow(trend, o.get());

  CLI::App* saga_trend = cmd->add_subcommand("saga-trend", "Events and readers per saga over time");
  saga_trend->add_option("--bucket", o->bucket, "hour or day (UTC)")
      ->envname("SAGAFLOW_BUCKET")
      ->check(CLI::IsMember({"hour", "day"}))
      ->capture_default_str();
  AddWindow(saga_trend, o.get());

  for (CLI::App* sub : {top, sagas, rejected, trend, saga_trend}) {
    sub->callback([o, sub] { SetExitStatus(RunQuery(sub->get_name(), *o)); });
  }
}

}  // namespace sagaflow::cli
