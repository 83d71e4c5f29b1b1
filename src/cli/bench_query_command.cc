// `sagaflow bench query`: latencies of every query the API and the dashboard
// send, on a store loaded with N events, cold (first call on a new
// connection) and warm (median of repeats), at two sizes, with the
// prototype's kind of plain SQL over the facts (no rollups, no collapse) on
// the same data as the anchor. A benchmark, not a test: it prints figures.
//
// Loading analyses each corpus text once, then writes events that pick
// texts at random (seed 5), one every 20 s from 2024-01-01, through the
// store's own sink in its default batch size: the rollups are maintained
// exactly as `run` maintains them, without paying the text analysis N times.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>

#include "cli/bench_support.h"
#include "cli/commands.h"
#include "events/event_generator.h"
#include "pipeline/analysis_model.h"
#include "pipeline/analyzer.h"
#include "pipeline/report.h"
#include "pipeline/store_uri.h"
#include "query/open_analytics.h"
#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/clickhouse_config.h"
#include "sinks/sqlite/sqlite_db.h"
#include "text/unicode.h"

namespace sagaflow::cli {
namespace {

constexpr int64_t kStart = 1704067200;  // 2024-01-01T00:00:00Z
constexpr int64_t kInterval = 20;
constexpr int64_t kDay = 86400;

struct BenchQueryOptions {
  std::string store;  // empty: SQLite in a scratch directory
  std::string corpus, model, entities;
  uint64_t count = 1000000;
  uint64_t small = 0;  // 0: count / 10
  std::string entity = "Harry Potter";
  int repeat = 5;
};

// One analysed corpus text: its saga (-1: blank) and mentions.
struct Analysed {
  int saga;
  std::vector<pipeline::MentionRow> mentions;
};

Result<std::vector<Analysed>> AnalyseCorpus(const std::string& corpus_path, const pipeline::AnalysisModel& model) {
  auto texts = LoadBenchCorpus(corpus_path);
  if (!texts.ok()) return texts.status();
  std::vector<Analysed> out;
  std::vector<double> scores(model.dimensions.sagas.size() + 1);
  std::vector<text::Mention> scratch;
  for (const auto& t : *texts) {
    Analysed a{-1, {}};
    if (!text::IsBlank(t.text)) {
      a.saga = pipeline::AnalyzeText(model.classifier, model.matcher, model.dimensions, t.text, scores.data(), &scratch,
                                     &a.mentions);
    }
    out.push_back(std::move(a));
  }
  return out;
}

// Writes events [from, to) of the deterministic stream through `sink`.
Status Load(pipeline::Sink& sink, const std::vector<Analysed>& texts, uint64_t from, uint64_t to, size_t batch_size) {
  std::mt19937_64 rng(5 + from);
  pipeline::Batch b;
  for (uint64_t i = from; i < to;) {
    b.Clear();
    for (; i < to && b.records < batch_size; ++i) {
      ++b.records;
      if (i % 1000 == 999) {  // a few rejected records
        b.dead_letters.push_back({0, i, i + 1, events::RejectReason::kInvalidJson, "bench", "{", 1});
        continue;
      }
      const Analysed& a = texts[rng() % texts.size()];
      pipeline::EventRow& e = b.events.emplace_back();
      e.position = i;
      e.line = i + 1;
      e.article_id = "bench-" + std::to_string(i % 2286);
      e.saga = a.saga;
      e.readers = 100 + static_cast<int64_t>(rng() % 99901);
      e.time = kStart + static_cast<int64_t>(i) * kInterval;
      e.status = a.saga < 0 ? pipeline::EventStatus::kEmpty : pipeline::EventStatus::kClassified;
      e.first_mention = static_cast<uint32_t>(b.mentions.size());
      e.mention_count = static_cast<uint32_t>(a.mentions.size());
      b.mentions.insert(b.mentions.end(), a.mentions.begin(), a.mentions.end());
    }
    b.streams = {{"bench:query", "sagaflow bench query", {i - 1, i, 0}}};
    auto r = sink.Write(b);
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

// Runs the prototype's kind of plain SQL over the facts of the store.
class PlainSql {
 public:
  static Result<std::unique_ptr<PlainSql>> Open(const std::string& uri) {
    auto parsed = pipeline::ParseStoreUri(uri);
    if (!parsed.ok()) return parsed.status();
    auto p = std::make_unique<PlainSql>();
    if (parsed->scheme == "sqlite") {
      auto db = sinks::sqlite::Db::Open(parsed->path, sinks::sqlite::Db::Mode::kReadOnly);
      if (!db.ok()) return db.status();
      p->lite_ = std::move(*db);
    } else {
      auto config = sinks::clickhouse::ParseClickHouseUri(uri);
      if (!config.ok()) return config.status();
      auto client = sinks::clickhouse::ClickHouseClient::Create(*config);
      if (!client.ok()) return client.status();
      p->ch_ = std::move(*client);
    }
    return p;
  }
  // Runs `sql` and reads every row; returns the number of result bytes/rows.
  Result<size_t> Run(const std::string& sql) {
    if (ch_) {
      auto r = ch_->Query(sql + " FORMAT TabSeparated");
      if (!r.ok()) return r.status();
      return r->size();
    }
    auto stmt = lite_->Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    size_t rows = 0;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) return rows;
      ++rows;
    }
  }

 private:
  std::unique_ptr<sinks::sqlite::Db> lite_;
  std::unique_ptr<sinks::clickhouse::ClickHouseClient> ch_;
};

struct BenchQuery {
  std::string name;
  std::function<Status(query::Analytics&)> run;
  std::string plain;  // the plain SQL anchor (valid on both stores), "" = none
};

std::vector<BenchQuery> Queries(const BenchQueryOptions& o, int64_t day, int64_t saga_id, int64_t hp_id,
                                const std::string& entity_ids) {
  using query::Bucket;
  using query::Measure;
  const query::TimeRange all{}, one_day{day, day + kDay - 1}, edges{day + 23400, day + kDay + 23399};
  auto top = [](const std::string& saga, query::TimeRange r, Measure by) {
    return [=](query::Analytics& a) { return a.TopEntities({saga, r, 8, by}).status(); };
  };
  auto top_sql = [&](int64_t id, const query::TimeRange& r, const char* order) {
    return fmt::format(
        "SELECT entity_id, sum(mentions) AS m, sum(readers) AS r FROM fact_readers WHERE saga_id = {}{} "
        "GROUP BY entity_id ORDER BY {} LIMIT 8",
        id, r.from ? fmt::format(" AND time >= {} AND time <= {}", *r.from, *r.to) : "", order);
  };
  auto sagas_sql = [](const query::TimeRange& r) {
    return fmt::format("SELECT saga_id, count(*), sum(readers) FROM fact_event{} GROUP BY saga_id",
                       r.from ? fmt::format(" WHERE time >= {} AND time <= {}", *r.from, *r.to) : "");
  };
  const std::string trend_sql = [&](int64_t w) {
    return fmt::format(
        "SELECT time - time % {0} AS b, sum(mentions), sum(readers) FROM fact_readers WHERE entity_id IN ({1}) "
        "GROUP BY b ORDER BY b",
        w, entity_ids);
  }(3600);
  auto saga_trend_sql = [](int64_t w) {
    return fmt::format(
        "SELECT saga_id, time - time % {0} AS b, count(*), sum(readers) FROM fact_event GROUP BY "
        "saga_id, b",
        w);
  };
  std::vector<BenchQuery> q = {
      {"top-entities --saga got (all)", top("got", all, Measure::kMentions), top_sql(saga_id, all, "m DESC, r DESC")},
      {"top-entities --saga got --by readers (all)", top("got", all, Measure::kReaders),
       top_sql(saga_id, all, "r DESC, m DESC")},
      {"top-entities --saga hp (one day)", top("hp", one_day, Measure::kMentions),
       top_sql(hp_id, one_day, "m DESC, r DESC")},
      {"top-entities --saga hp --by readers (one day)", top("hp", one_day, Measure::kReaders),
       top_sql(hp_id, one_day, "r DESC, m DESC")},
      {"top-entities --saga hp (one day, 06:30 to 06:30)", top("hp", edges, Measure::kMentions),
       top_sql(hp_id, edges, "m DESC, r DESC")},
      {"trend --entity '" + o.entity + "' --bucket hour",
       [&o](query::Analytics& a) {
         return a.Trend({o.entity, std::nullopt, Bucket::kHour, {}}).status();
       },
       trend_sql},
      {"trend --entity '" + o.entity + "' --bucket day",
       [&o](query::Analytics& a) {
         return a.Trend({o.entity, std::nullopt, Bucket::kDay, {}}).status();
       },
       ""},
      {"sagas (all)", [=](query::Analytics& a) { return a.Sagas(all).status(); }, sagas_sql(all)},
      {"sagas (one day)", [=](query::Analytics& a) { return a.Sagas(one_day).status(); }, sagas_sql(one_day)},
      {"saga-trend --bucket hour (all)", [=](query::Analytics& a) { return a.SagaTrend(all, Bucket::kHour).status(); },
       saga_trend_sql(3600)},
      {"saga-trend --bucket day (all)", [=](query::Analytics& a) { return a.SagaTrend(all, Bucket::kDay).status(); },
       saga_trend_sql(86400)},
      {"rejected", [](query::Analytics& a) { return a.Rejected().status(); },
       "SELECT reason, count(*) FROM dead_letter GROUP BY reason"},
  };
  return q;
}

template <typename F>
Result<double> Time(F f) {
  const auto start = std::chrono::steady_clock::now();
  Status st = f();
  if (!st.ok()) return st;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

struct Figures {
  double cold = 0, warm = 0, plain = -1;
};

// Every query: cold on a new connection, warm as the median of `repeat`;
// then the plain SQL anchor, warm. Also the dashboard's first load.
Result<std::vector<Figures>> Measure(const BenchQueryOptions& o, const std::string& uri,
                                     const std::vector<BenchQuery>& queries, double* dashboard_ms) {
  std::vector<Figures> out;
  auto plain = PlainSql::Open(uri);
  if (!plain.ok()) return plain.status();
  for (const BenchQuery& q : queries) {
    Figures f;
    auto fresh = query::OpenAnalytics(uri);
    if (!fresh.ok()) return fresh.status();
    auto cold = Time([&] { return q.run(**fresh); });
    if (!cold.ok()) return cold.status().WithContext(q.name);
    f.cold = *cold;
    std::vector<double> warm;
    for (int i = 0; i < o.repeat; ++i) {
      auto t = Time([&] { return q.run(**fresh); });
      if (!t.ok()) return t.status();
      warm.push_back(*t);
    }
    f.warm = Median(warm);
    if (!q.plain.empty()) {
      const std::string& sql = q.plain;
      std::vector<double> times;
      for (int i = 0; i < o.repeat + 1; ++i) {
        auto t = Time([&] { return (*plain)->Run(sql).status(); });
        if (!t.ok()) return t.status().WithContext("plain SQL " + sql);
        if (i) times.push_back(*t);  // the first run warms
      }
      f.plain = Median(times);
    }
    out.push_back(f);
  }
  // The dashboard's first load, in the order it sends its requests
  // (web/app.js): the data's range, the saga list, then the panels.
  auto a = query::OpenAnalytics(uri);
  if (!a.ok()) return a.status();
  auto load = Time([&]() -> Status {
    auto days = (*a)->SagaTrend({}, query::Bucket::kDay);
    if (!days.ok()) return days.status();
    if (days->empty()) return Status::Internal("no data");
    const query::TimeRange range{days->front().time, days->back().time + kDay - 1};
    SAGAFLOW_RETURN_IF_ERROR((*a)->Sagas({}).status());
    SAGAFLOW_RETURN_IF_ERROR((*a)->Sagas(range).status());
    SAGAFLOW_RETURN_IF_ERROR((*a)->TopEntities({"got", range, 8, query::Measure::kMentions}).status());
    SAGAFLOW_RETURN_IF_ERROR((*a)->SagaTrend(range, query::Bucket::kDay).status());
    return (*a)->Rejected().status();
  });
  if (!load.ok()) return load.status();
  *dashboard_ms = *load;
  return out;
}

int RunBenchQuery(const BenchQueryOptions& o) {
  auto model = pipeline::AnalysisModel::Load(o.model, o.entities);
  if (!model.ok()) {
    spdlog::error("bench query: {}", model.status().ToString());
    return 2;
  }
  ScratchDir dir("sagaflow-bench-query");
  const std::string uri = o.store.empty() ? "sqlite:" + (dir.path() / "store.db").string() : o.store;
  auto parsed = pipeline::ParseStoreUri(uri);
  if (!parsed.ok()) {
    spdlog::error("bench query: {}", parsed.status().ToString());
    return 2;
  }
  auto texts = AnalyseCorpus(o.corpus, **model);
  if (!texts.ok() || texts->empty()) {
    spdlog::error("bench query: {}", texts.ok() ? "empty corpus" : texts.status().ToString());
    return 2;
  }
  auto sink = pipeline::OpenSink(uri);
  if (!sink.ok() || !(*sink)->Prepare((*model)->dimensions).ok()) {
    spdlog::error("bench query: cannot open {}", uri);
    return 1;
  }
  auto checkpoint = (*sink)->LoadCheckpoint("bench:query");
  if (!checkpoint.ok() || checkpoint->has_value()) {
    spdlog::error("bench query: {} already holds bench events: use a fresh store", uri);
    return 2;
  }
  const size_t batch = pipeline::DefaultPipelineOptions(*parsed).batch_records;
  const auto& dims = (*model)->dimensions;
  auto saga_id = [&](const char* name) { return dims.sagas[static_cast<size_t>(dims.FindSaga(name))].id; };
  std::string entity_ids;
  for (const auto& e : dims.entities) {
    if (e.name == o.entity) entity_ids += (entity_ids.empty() ? "" : ", ") + std::to_string(e.id);
  }
  if (entity_ids.empty() || dims.FindSaga("got") < 0 || dims.FindSaga("hp") < 0) {
    spdlog::error("bench query: the model needs sagas got and hp, the dictionary the entity \"{}\"", o.entity);
    return 2;
  }
  const auto queries = Queries(o, kStart + kDay, saga_id("got"), saga_id("hp"), entity_ids);
  const uint64_t sizes[2] = {o.small ? o.small : o.count / 10, o.count};
  std::vector<Figures> figures[2];
  double dashboard[2] = {0, 0};
  uint64_t loaded = 0;
  for (int s = 0; s < 2; ++s) {
    const auto start = std::chrono::steady_clock::now();
    Status st = Load(**sink, *texts, loaded, sizes[s], batch);
    if (!st.ok()) {
      spdlog::error("bench query: loading: {}", st.ToString());
      return 1;
    }
    spdlog::info("bench query: {} events loaded in {:.1f} s", pipeline::Thousands(sizes[s] - loaded),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    loaded = sizes[s];
    auto f = Measure(o, uri, queries, &dashboard[s]);
    if (!f.ok()) {
      spdlog::error("bench query: {}", f.status().ToString());
      return 1;
    }
    figures[s] = *f;
  }
  std::printf(
      "query latency (ms) on %s, cold = first call on a new connection, warm = median of %d;\n"
      "plain SQL = the prototype's kind of query over the facts on the same data (warm)\n",
      parsed->scheme.c_str(), o.repeat);
  std::printf("%-50s %12s %12s %12s %12s %12s %8s\n", "query", "cold@small", "warm@small", "cold@large", "warm@large",
              "plain@large", "ratio");
  std::printf("%-50s %12s %12s %12s %12s\n", "", pipeline::Thousands(sizes[0]).c_str(),
              pipeline::Thousands(sizes[0]).c_str(), pipeline::Thousands(sizes[1]).c_str(),
              pipeline::Thousands(sizes[1]).c_str());
  for (size_t i = 0; i < queries.size(); ++i) {
    const Figures &a = figures[0][i], &b = figures[1][i];
    std::printf("%-50s %12.2f %12.2f %12.2f %12.2f", queries[i].name.c_str(), a.cold, a.warm, b.cold, b.warm);
    if (b.plain >= 0) {
      std::printf(" %12.2f %7.1fx\n", b.plain, b.plain / b.warm);
    } else {
      std::printf("\n");
    }
  }
  std::printf("%-50s %12s %12.2f %12s %12.2f\n", "dashboard first load (6 requests in sequence)", "", dashboard[0], "",
              dashboard[1]);
  return 0;
}

}  // namespace

void AddBenchQueryCommand(CLI::App& app) {
  auto o = std::make_shared<BenchQueryOptions>();
  CLI::App* cmd = BenchCommand(app)->add_subcommand(
      "query", "Query latencies on a store loaded with N events, at two sizes, against plain SQL over the facts");
  cmd->add_option("--store", o->store, "Store to load (a fresh one; default: SQLite in a scratch directory)")
      ->envname("SAGAFLOW_STORE");
  cmd->add_option("--corpus", o->corpus, "Corpus of texts (default: $SAGAFLOW_SHARED/corpus/texts.jsonl)")
      ->envname("SAGAFLOW_BENCH_CORPUS");
  cmd->add_option("--model", o->model, "Model (JSON)")->required()->envname("SAGAFLOW_MODEL");
  cmd->add_option("--entities", o->entities, "Entity dictionary")->required()->envname("SAGAFLOW_ENTITIES");
  cmd->add_option("--count", o->count, "Events at the large size")
      ->envname("SAGAFLOW_BENCH_COUNT")
      ->capture_default_str();
  cmd->add_option("--small", o->small, "Events at the small size (default: --count / 10)")
      ->envname("SAGAFLOW_BENCH_SMALL");
  cmd->add_option("--entity", o->entity, "Entity of the trend queries")->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "Warm runs per query (the median is reported)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->callback([o] { SetExitStatus(RunBenchQuery(*o)); });
}

}  // namespace sagaflow::cli
