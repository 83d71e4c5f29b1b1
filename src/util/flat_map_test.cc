#include "util/flat_map.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>

namespace sagaflow {
namespace {

// Against std::map over random keys, dense and sparse, across clears and
// growth: every key's value, first-found order, nothing left after clear().
TEST(FlatMap, AggregatesLikeAMap) {
  std::mt19937_64 rng(7);
  FlatMap<uint64_t, std::array<int64_t, 3>> table;
  for (int round = 0; round < 6; ++round) {
    std::map<uint64_t, std::array<int64_t, 3>> want;
    std::vector<uint64_t> order;
    const int n = 10 << (2 * round);  // 10 .. 10,240 adds: the table grows
    for (int i = 0; i < n; ++i) {
      const uint64_t key = round % 2 ? rng() % 50 : rng() << (rng() % 40);
      auto& v = table[key];
      const int64_t x = static_cast<int64_t>(rng() % 1000) - 500;
      v[0] += x, v[1] += 2 * x, ++v[2];
      if (!want.count(key)) order.push_back(key);
      auto& w = want[key];
      w[0] += x, w[1] += 2 * x, ++w[2];
    }
    ASSERT_EQ(table.size(), want.size());
    for (size_t i = 0; i < order.size(); ++i) {
      const auto& e = table.entries()[i];
      EXPECT_EQ(e.key, order[i]);
      EXPECT_EQ(e.value, want[e.key]) << e.key;
      ASSERT_NE(table.Find(e.key), nullptr);
      EXPECT_EQ(*table.Find(e.key), want[e.key]);
    }
    EXPECT_EQ(table.Find(want.rbegin()->first + 1), nullptr);
    table.clear();
    EXPECT_TRUE(table.empty());
    EXPECT_EQ(table.Find(order[0]), nullptr);
    EXPECT_EQ(table[order[0]][2], 0);  // cleared, not carried over
    table.clear();
  }
}

// Retain keeps exactly the kept entries, in order, findable; the others are
// gone and can be added again.
TEST(FlatMap, RetainKeepsWhatThePredicateKeeps) {
  FlatMap<uint64_t, uint64_t> table;
  for (uint64_t k = 0; k < 5000; ++k) table[k * 7919] = k;
  table.Retain([](const auto& e) { return e.value % 3 == 0; });
  ASSERT_EQ(table.size(), 1667u);
  for (size_t i = 0; i < table.size(); ++i) EXPECT_EQ(table.entries()[i].value, 3 * i);
  for (uint64_t k = 0; k < 5000; ++k) {
    const uint64_t* v = table.Find(k * 7919);
    if (k % 3 == 0) {
      ASSERT_NE(v, nullptr) << k;
      EXPECT_EQ(*v, k);
    } else {
      EXPECT_EQ(v, nullptr) << k;
    }
  }
  table[7919] = 42;
  EXPECT_EQ(*table.Find(7919), 42u);
  table.Retain([](const auto&) { return false; });
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.Find(7919), nullptr);
  FlatMap<uint64_t, uint64_t> never_used;
  never_used.Retain([](const auto&) { return true; });
  EXPECT_TRUE(never_used.empty());
}

}  // namespace
}  // namespace sagaflow
