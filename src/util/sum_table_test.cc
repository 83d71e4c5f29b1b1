#include "util/sum_table.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>

namespace sagaflow {
namespace {

// Against std::map over random keys, dense and sparse, across clears and
// growth: every key's sums, first-found order, nothing left after clear().
TEST(SumTable, SumsLikeAMap) {
  std::mt19937_64 rng(7);
  SumTable table;
  for (int round = 0; round < 6; ++round) {
    std::map<uint64_t, std::array<int64_t, 3>> want;
    std::vector<uint64_t> order;
    const int n = 10 << (2 * round);  // 10 .. 10,240 adds: the table grows
    for (int i = 0; i < n; ++i) {
      const uint64_t key = round % 2 ? rng() % 50 : rng() << (rng() % 40);
      auto& e = table.Find(key);
      ASSERT_EQ(e.key, key);
      const int64_t v = static_cast<int64_t>(rng() % 1000) - 500;
      e.a += v, e.b += 2 * v, ++e.c;
      if (!want.count(key)) order.push_back(key);
      auto& w = want[key];
      w[0] += v, w[1] += 2 * v, ++w[2];
    }
    ASSERT_EQ(table.entries().size(), want.size());
    for (size_t i = 0; i < order.size(); ++i) {
      const auto& e = table.entries()[i];
      EXPECT_EQ(e.key, order[i]);
      EXPECT_EQ((std::array<int64_t, 3>{e.a, e.b, e.c}), want[e.key]) << e.key;
    }
    table.clear();
    EXPECT_TRUE(table.empty());
    EXPECT_EQ(table.Find(order[0]).c, 0);  // cleared, not carried over
    table.clear();
  }
}

}  // namespace
}  // namespace sagaflow
