// Store tests' shared material: a random history of batches (with re-sent
// and overlapping ones) and an in-memory reference that answers every
// analytics query from the batches themselves, each record counted once.
// Every store must answer like the reference (store_conformance_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "events/event.h"
#include "pipeline/dimensions.h"
#include "pipeline/sink.h"
#include "query/analytics.h"

namespace sagaflow::query {
// Rows compare field by field; readable in test failures.
inline bool operator==(const TopEntityRow& a, const TopEntityRow& b) {
  return a.entity == b.entity && a.mentions == b.mentions && a.readers == b.readers;
}
inline bool operator==(const SagaRow& a, const SagaRow& b) {
  return a.saga == b.saga && a.events == b.events && a.readers == b.readers;
}
inline bool operator==(const RejectedRow& a, const RejectedRow& b) {
  return a.reason == b.reason && a.events == b.events;
}
inline bool operator==(const TrendRow& a, const TrendRow& b) {
  return a.time == b.time && a.mentions == b.mentions && a.readers == b.readers;
}
inline bool operator==(const SagaTrendRow& a, const SagaTrendRow& b) {
  return a.saga == b.saga && a.time == b.time && a.events == b.events && a.readers == b.readers;
}
inline std::ostream& operator<<(std::ostream& o, const TopEntityRow& r) {
  return o << "{" << r.entity << " " << r.mentions << " " << r.readers << "}";
}
inline std::ostream& operator<<(std::ostream& o, const SagaRow& r) {
  return o << "{" << r.saga.value_or("null") << " " << r.events << " " << r.readers << "}";
}
inline std::ostream& operator<<(std::ostream& o, const RejectedRow& r) {
  return o << "{" << r.reason << " " << r.events << "}";
}
inline std::ostream& operator<<(std::ostream& o, const TrendRow& r) {
  return o << "{" << r.time << " " << r.mentions << " " << r.readers << "}";
}
inline std::ostream& operator<<(std::ostream& o, const SagaTrendRow& r) {
  return o << "{" << r.saga.value_or("null") << " " << r.time << " " << r.events << " " << r.readers << "}";
}
}  // namespace sagaflow::query

namespace sagaflow::sinks::testing {

// The dimensions of the store tests: three sagas and 7 entities, two of
// them named "Tom" (unscoped and hp), one non-ASCII (RandomHistory mentions
// them by index).
inline pipeline::Dimensions TestDimensions() {
  const std::vector<pipeline::EntityDim> entities = {
      {0, "Jon", "got", 0, "character"}, {0, "Frodo", "lotr", 0, "character"}, {0, "Winterfell", "got", 0, "place"},
      {0, "Tom", "", 0, "other"},        {0, "Tom", "hp", 0, "character"},     {0, "Éowyn", "lotr", 0, "character"},
      {0, "Harry", "hp", 0, "character"}};
  auto d = pipeline::Dimensions::Build({"got", "lotr", "hp"}, entities);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : pipeline::Dimensions();
}

inline const std::vector<std::string> kHostile = {
    "tab\there",        "new\nline",   "back\\slash\\",       "quote ' and \"", "'; DROP TABLE fact_event; --",
    "Éowyn Dúnedain 🐉", "\\t literal", "\r\b\f\x01 controls", "x' OR '1'='1"};

// The event times of a RandomHistory:
//  - kScattered: at the domain's edges and around bucket borders, else
//    uniform over `days` days;
//  - kLive: moving forward 8 hours a batch, as a live stream's do, one in
//    five up to 3 days late.
enum class Times { kScattered, kLive };

// A random history over `streams` streams: events of every saga and empty
// ones, mentions of the first 7 entities, times as `times` says, dead
// letters with hostile text, and every fourth batch re-sent.
inline std::vector<pipeline::Batch> RandomHistory(uint64_t seed, int batches = 12, int days = 5, int max_records = 45,
                                                  Times times_of = Times::kScattered) {
  using pipeline::Batch;
  using pipeline::EventRow;
  using pipeline::EventStatus;
  std::mt19937_64 rng(seed);
  std::vector<Batch> out;
  uint64_t position[2] = {0, 0};
  const int64_t times[] = {0, 1, 3599, 3600, 86399, 86400, 90000, 4294967295};
  for (int n = 0; n < batches; ++n) {
    Batch b;
    uint64_t first[2] = {position[0], position[1]};
    const int records = 5 + static_cast<int>(rng() % static_cast<uint64_t>(max_records - 4));
    for (int i = 0; i < records; ++i) {
      const uint32_t stream = rng() % 2;
      const uint64_t p = position[stream]++;
      if (rng() % 10 == 0) {
        b.dead_letters.push_back({stream, p, p + 1, static_cast<events::RejectReason>(rng() % 3),
                                  kHostile[rng() % kHostile.size()], kHostile[rng() % kHostile.size()], rng() % 999});
        ++b.records;
        continue;
      }
      const int saga = static_cast<int>(rng() % 4) - 1;
      int64_t time =
          rng() % 4 == 0 ? times[rng() % 8] : static_cast<int64_t>(rng() % (86400 * static_cast<uint64_t>(days)));
      if (times_of == Times::kLive) {
        const int64_t now = int64_t{n} * 8 * 3600 + static_cast<int64_t>(rng() % (uint64_t{8} * 3600));
        time = rng() % 5 == 0 ? std::max<int64_t>(0, now - static_cast<int64_t>(rng() % (uint64_t{3} * 86400))) : now;
      }
      std::vector<std::pair<uint32_t, uint32_t>> mentions;
      if (saga >= 0) {
        for (uint32_t e = 0; e < 7; ++e) {
          if (rng() % 3 == 0) mentions.push_back({e, 1 + static_cast<uint32_t>(rng() % 4)});
        }
      }
      EventRow& e = b.events.emplace_back();
      e.stream = stream;
      e.position = p;
      e.line = p + 1;
      e.article_id = "a" + std::to_string(p);
      e.saga = saga;
      // Few distinct reader counts: ties in both measures.
      e.readers = rng() % 3 == 0 ? 2147483647 : 100 * static_cast<int64_t>(rng() % 4);
      e.time = time;
      e.status = saga < 0 ? EventStatus::kEmpty : EventStatus::kClassified;
      e.first_mention = static_cast<uint32_t>(b.mentions.size());
      for (auto [entity, count] : mentions) b.mentions.push_back({entity, count});
      e.mention_count = static_cast<uint32_t>(mentions.size());
      ++b.records;
    }
    for (uint32_t s = 0; s < 2; ++s) {
      if (position[s] > first[s])
        b.streams.push_back({"stream-" + std::to_string(s), "random", {position[s] - 1, 0, 0}});
    }
    // Map event/dead-letter stream numbers to this batch's stream indexes.
    std::vector<uint32_t> index(2, 0);
    for (uint32_t i = 0; i < b.streams.size(); ++i) index[b.streams[i].key.back() - '0'] = i;
    for (auto& e : b.events) e.stream = index[e.stream];
    for (auto& d : b.dead_letters) d.stream = index[d.stream];
    out.push_back(b);
    if (n % 4 == 3) out.push_back(out[out.size() - 2]);  // a re-sent batch
  }
  return out;
}

// query::Analytics over the batches written (records deduplicated by stream
// and position, as every store must): the specification of the queries in
// docs/schema.md, computed the plainest way. Unknown names are kNotFound
// (the stores' messages are compared between stores, not here).
class ReferenceAnalytics final : public query::Analytics {
 public:
  explicit ReferenceAnalytics(pipeline::Dimensions dims) : dims_(std::move(dims)) {}

  void Write(const pipeline::Batch& b) {
    for (const auto& e : b.events) {
      if (!seen_.insert({b.streams[e.stream].key, e.position}).second) continue;
      Event ev{e.saga, e.readers, e.time, {}};
      for (uint32_t i = 0; i < e.mention_count; ++i) {
        const auto& m = b.mentions[e.first_mention + i];
        ev.mentions.push_back({m.entity, m.count});
      }
      events_.push_back(std::move(ev));
    }
    for (const auto& d : b.dead_letters) {
      if (seen_dead_.insert({b.streams[d.stream].key, d.position}).second)
        ++rejected_[std::string(events::RejectReasonName(d.reason))];
    }
  }

  Result<std::vector<query::TopEntityRow>> TopEntities(const query::TopEntitiesQuery& q) override {
    const int saga = dims_.FindSaga(q.saga);
    if (saga < 0) return Status::NotFound("unknown saga");
    std::map<uint32_t, std::pair<int64_t, int64_t>> sums;
    for (const Event& e : events_) {
      if (e.saga != saga || !In(q.range, e.time)) continue;
      for (auto [entity, count] : e.mentions) {
        sums[entity].first += count;
        sums[entity].second += e.readers;
      }
    }
    std::vector<std::tuple<int64_t, int64_t, std::string, int64_t>> keyed;  // -measure, -other, name, id
    for (const auto& [entity, v] : sums) {
      const auto& dim = dims_.entities[entity];
      const bool by_readers = q.by == query::Measure::kReaders;
      keyed.emplace_back(-(by_readers ? v.second : v.first), -(by_readers ? v.first : v.second), dim.name, dim.id);
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<query::TopEntityRow> out;
    for (const auto& [m1, m2, name, id] : keyed) {
      if (q.limit > 0 && out.size() == static_cast<size_t>(q.limit)) break;
      const bool by_readers = q.by == query::Measure::kReaders;
      out.push_back({name, by_readers ? -m2 : -m1, by_readers ? -m1 : -m2});
    }
    return out;
  }

  Result<std::vector<query::SagaRow>> Sagas(const query::TimeRange& range) override {
    std::map<int, std::pair<int64_t, int64_t>> sums;
    for (const Event& e : events_) {
      if (!In(range, e.time)) continue;
      sums[e.saga].first += 1;
      sums[e.saga].second += e.readers;
    }
    std::vector<query::SagaRow> out;
    std::vector<std::pair<std::string, int>> names;
    for (size_t i = 0; i < dims_.sagas.size(); ++i) names.emplace_back(dims_.sagas[i].name, static_cast<int>(i));
    std::sort(names.begin(), names.end());
    out.reserve(names.size() + 1);
    for (const auto& [name, i] : names) out.push_back({name, sums[i].first, sums[i].second});
    out.push_back({std::nullopt, sums[-1].first, sums[-1].second});
    return out;
  }

  Result<std::vector<query::RejectedRow>> Rejected() override {
    std::vector<query::RejectedRow> out;
    for (const auto& [reason, n] : rejected_) out.push_back({reason, n});
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.events > b.events; });
    return out;
  }

  Result<std::vector<query::DeadLetter>> DeadLetters(int64_t) override {
    return Status::Unsupported("the reference keeps no dead letters");
  }

  Result<std::vector<query::TrendRow>> Trend(const query::TrendQuery& q) override {
    std::set<uint32_t> entities;
    for (size_t i = 0; i < dims_.entities.size(); ++i) {
      if (dims_.entities[i].name == q.entity) entities.insert(static_cast<uint32_t>(i));
    }
    if (entities.empty()) return Status::NotFound("unknown entity");
    int saga = -2;
    if (q.saga) {
      saga = dims_.FindSaga(*q.saga);
      if (saga < 0) return Status::NotFound("unknown saga");
    }
    const int64_t width = q.bucket == query::Bucket::kHour ? 3600 : 86400;
    std::map<int64_t, std::pair<int64_t, int64_t>> buckets;
    for (const Event& e : events_) {
      if (!In(q.range, e.time) || (saga != -2 && e.saga != saga)) continue;
      for (auto [entity, count] : e.mentions) {
        if (!entities.count(entity)) continue;
        auto& v = buckets[e.time / width * width];
        v.first += count;
        v.second += e.readers;
      }
    }
    std::vector<query::TrendRow> out;
    out.reserve(buckets.size());
    for (const auto& [t, v] : buckets) out.push_back({t, v.first, v.second});
    return out;
  }

  Result<std::vector<query::SagaTrendRow>> SagaTrend(const query::TimeRange& range, query::Bucket bucket) override {
    const int64_t width = bucket == query::Bucket::kHour ? 3600 : 86400;
    // (bucket, name or "\xff" for empty texts: last) -> events, readers
    std::map<std::pair<int64_t, std::string>, std::pair<int64_t, int64_t>> sums;
    for (const Event& e : events_) {
      if (!In(range, e.time)) continue;
      auto& v = sums[{e.time / width * width, e.saga < 0 ? "\xff" : dims_.sagas[e.saga].name}];
      v.first += 1;
      v.second += e.readers;
    }
    std::vector<query::SagaTrendRow> out;
    out.reserve(sums.size());
    for (const auto& [k, v] : sums) {
      out.push_back(
          {k.second == "\xff" ? std::nullopt : std::optional<std::string>(k.second), k.first, v.first, v.second});
    }
    return out;
  }

  Status Ping() override { return Status::Ok(); }

 private:
  struct Event {
    int saga;
    int64_t readers, time;
    std::vector<std::pair<uint32_t, uint32_t>> mentions;
  };
  static bool In(const query::TimeRange& r, int64_t t) { return (!r.from || t >= *r.from) && (!r.to || t <= *r.to); }

  pipeline::Dimensions dims_;
  std::set<std::pair<std::string, uint64_t>> seen_, seen_dead_;
  std::vector<Event> events_;
  std::map<std::string, int64_t> rejected_;
};

// How many answers ExpectSameAnswers compares.
//  - kEvery: every query, option and name (unknown ones included) over 13
//    fixed windows (edges of the time domain, of hours and days, empty and
//    reversed) and 40 random ones: about 2,300 answers, the specification of
//    the query planner (store_conformance_test).
//  - kTotals: the answers a miscounted record must change, about 90: every
//    saga's top entities (all of them: mentions and readers), the sagas,
//    both trends by hour and by day, and the dead letters, over windows
//    reading each source of rows: the whole range (day rollups), whole
//    hours and days, partial hours at both edges (facts), and 4 random
//    windows. For tests that write the same records through races and must
//    find each counted once (clickhouse_race_test, migrations).
enum class Coverage { kEvery, kTotals };

// Compares the queries of `coverage` of `store` with `want`; returns how
// many answers were compared. Errors must have the same code.
inline int ExpectSameAnswers(query::Analytics& store, query::Analytics& want, uint64_t seed,
                             Coverage coverage = Coverage::kEvery) {
  const bool every = coverage == Coverage::kEvery;
  std::vector<query::TimeRange> windows = {{}, {3600, 86400}, {3601, 86399}, {86400, std::nullopt}, {1800, 5400}};
  if (every) {
    windows.insert(windows.end(), {{0, 0},
                                   {std::nullopt, 90000},
                                   {4294967295, std::nullopt},
                                   {-100, 5},
                                   {5000000000, std::nullopt},
                                   {std::nullopt, -1},
                                   {90000, 3600},
                                   {3599, 3600}});
  }
  std::mt19937_64 rng(seed);
  for (int i = 0; i < (every ? 40 : 4); ++i) {
    const int64_t from = static_cast<int64_t>(rng() % (uint64_t{86400} * 6)) - 3600;
    windows.push_back({from, from + static_cast<int64_t>(rng() % (uint64_t{86400} * (i % 2 ? 3 : 1)))});
  }
  int compared = 0;
  auto same = [&](const auto& got, const auto& expected, const std::string& what) {
    ++compared;
    ASSERT_EQ(got.ok(), expected.ok()) << what << ": " << got.status().ToString() << " vs "
                                       << expected.status().ToString();
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), expected.status().code()) << what;
      return;
    }
    EXPECT_EQ(*got, *expected) << what;
  };
  auto name = [](const query::TimeRange& w) {
    return " [" + (w.from ? std::to_string(*w.from) : "") + ", " + (w.to ? std::to_string(*w.to) : "") + "]";
  };
  const std::vector<std::string> sagas =
      every ? std::vector<std::string>{"got", "lotr", "hp", "narnia"} : std::vector<std::string>{"got", "lotr", "hp"};
  const auto measures = every ? std::vector<query::Measure>{query::Measure::kMentions, query::Measure::kReaders}
                              : std::vector<query::Measure>{query::Measure::kMentions};
  const auto limits = every ? std::vector<int64_t>{0, 2} : std::vector<int64_t>{0};
  // "Tom" is two entities (unscoped and hp), "Éowyn" non-ASCII.
  const std::vector<std::string> entities =
      every ? std::vector<std::string>{"Jon", "Tom", "Éowyn", "Nobody"} : std::vector<std::string>{"Tom", "Éowyn"};
  const auto trend_sagas = every ? std::vector<std::optional<std::string>>{std::nullopt, "hp", "narnia"}
                                 : std::vector<std::optional<std::string>>{std::nullopt};
  for (const auto& w : windows) {
    for (const std::string& saga : sagas) {
      for (auto by : measures) {
        for (int64_t limit : limits) {
          query::TopEntitiesQuery q{saga, w, limit, by};
          same(store.TopEntities(q), want.TopEntities(q), "top-entities " + saga + name(w));
        }
      }
    }
    same(store.Sagas(w), want.Sagas(w), "sagas" + name(w));
    for (auto bucket : {query::Bucket::kHour, query::Bucket::kDay}) {
      same(store.SagaTrend(w, bucket), want.SagaTrend(w, bucket), "saga-trend" + name(w));
      for (const std::string& entity : entities) {
        for (const std::optional<std::string>& saga : trend_sagas) {
          query::TrendQuery q{entity, saga, bucket, w};
          same(store.Trend(q), want.Trend(q), "trend " + entity + name(w));
        }
      }
    }
  }
  same(store.Rejected(), want.Rejected(), "rejected");
  return compared;
}

}  // namespace sagaflow::sinks::testing
