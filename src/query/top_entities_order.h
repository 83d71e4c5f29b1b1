// The order of `top-entities` answers, the same in every store: the
// measure descending, then the other measure descending, then the name
// byte-wise (SQLite's BINARY collation), then the id; at most `limit` rows
// (0: all). Stores sum their rows, then rank them here.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "query/analytics.h"

namespace sagaflow::query {

template <typename Id>
struct RankedEntity {
  TopEntityRow row;
  Id id;
};

template <typename Id>
std::vector<TopEntityRow> RankTopEntities(std::vector<RankedEntity<Id>> out, Measure by, int64_t limit) {
  const bool by_readers = by == Measure::kReaders;
  std::sort(out.begin(), out.end(), [&](const RankedEntity<Id>& a, const RankedEntity<Id>& b) {
    const int64_t a1 = by_readers ? a.row.readers : a.row.mentions, b1 = by_readers ? b.row.readers : b.row.mentions;
    const int64_t a2 = by_readers ? a.row.mentions : a.row.readers, b2 = by_readers ? b.row.mentions : b.row.readers;
    if (a1 != b1) return a1 > b1;
    if (a2 != b2) return a2 > b2;
    if (a.row.entity != b.row.entity) return a.row.entity < b.row.entity;
    return a.id < b.id;
  });
  if (limit > 0 && out.size() > static_cast<size_t>(limit)) out.resize(static_cast<size_t>(limit));
  std::vector<TopEntityRow> rows;
  rows.reserve(out.size());
  for (auto& r : out) rows.push_back(std::move(r.row));
  return rows;
}

}  // namespace sagaflow::query
