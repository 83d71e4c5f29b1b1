// Test-only helpers for the Kafka tests: what a store holds, independent of
// where its events came from (file lines or Kafka offsets), so a Kafka run
// can be compared with a file run of the same events row for row; a group's
// committed offsets and a topic's ends; child processes (the dev broker and
// consumers, to be killed at will).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "kafka/kafka_config.h"
#include "sinks/sqlite/sqlite_db.h"
#include "support/child_process.h"

namespace sagaflow::kafka::testing {

// Every fact, mention and dead letter of the SQLite store at `path`, one
// sorted line each, without source keys, positions and store-local ids.
inline std::string StoreFingerprint(const std::string& path) {
  auto db = sinks::sqlite::Db::Open(path, sinks::sqlite::Db::Mode::kReadOnly);
  if (!db.ok()) {
    ADD_FAILURE() << db.status().ToString();
    return "";
  }
  std::string out;
  auto dump = [&](const char* title, const char* sql, int columns) {
    auto q = (*db)->Prepare(sql);
    if (!q.ok()) {
      ADD_FAILURE() << q.status().ToString();
      return;
    }
    size_t rows = 0;
    std::string body;
    for (;;) {
      auto row = q->Step();
      if (!row.ok()) {
        ADD_FAILURE() << row.status().ToString();
        return;
      }
      if (!*row) break;
      ++rows;
      for (int c = 0; c < columns; ++c) body += (c ? "\t" : "") + q->Text(c);
      body += "\n";
    }
    out += std::string("# ") + title + " " + std::to_string(rows) + "\n" + body;
  };
  dump("events",
       "SELECT e.article_id, e.time, e.readers, coalesce(s.name, ''), e.status FROM fact_event e "
       "LEFT JOIN dim_saga s ON s.saga_id = e.saga_id ORDER BY 1, 2, 3, 4, 5",
       5);
  dump("mentions",
       "SELECT e.article_id, e.time, d.name, d.kind, s.name, r.mentions, r.readers, r.time "
       "FROM fact_readers r JOIN fact_event e ON e.event_key = r.event_key "
       "JOIN dim_entity d ON d.entity_id = r.entity_id JOIN dim_saga s ON s.saga_id = r.saga_id "
       "ORDER BY 1, 2, 3, 4, 5",
       8);
  dump("dead letters", "SELECT reason, detail, excerpt FROM dead_letter ORDER BY 1, 2, 3", 3);
  return out;
}

// The first line where two fingerprints differ (for failure messages).
inline std::string FirstDifference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int n = 1;; ++n) {
    bool ga = static_cast<bool>(std::getline(sa, la)), gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "identical";
    if (!ga || !gb || la != lb) {
      return "line " + std::to_string(n) + ":\n  expected: " + (ga ? la : "<end>") +
             "\n  actual:   " + (gb ? lb : "<end>");
    }
  }
}

// The committed offset of `group` for partitions 0..partitions-1 (-1: none).
inline std::vector<int64_t> CommittedOffsets(const std::string& brokers, const std::string& topic, int partitions,
                                             const std::string& group) {
  Config conf;
  EXPECT_TRUE(conf.Set("bootstrap.servers", brokers).ok());
  EXPECT_TRUE(conf.Set("group.id", group).ok());
  auto rk = NewClient(RD_KAFKA_CONSUMER, &conf);
  if (!rk.ok()) {
    ADD_FAILURE() << rk.status().ToString();
    return {};
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  EXPECT_EQ(rd_kafka_committed(*rk, list, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<int64_t> out;
  out.reserve(partitions);
  for (int p = 0; p < partitions; ++p) out.push_back(list->elems[p].offset >= 0 ? list->elems[p].offset : -1);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(*rk);
  return out;
}

// The low and high watermarks of partitions 0..partitions-1.
inline std::vector<std::pair<int64_t, int64_t>> Watermarks(const std::string& brokers, const std::string& topic,
                                                           int partitions) {
  Config conf;
  EXPECT_TRUE(conf.Set("bootstrap.servers", brokers).ok());
  auto rk = NewClient(RD_KAFKA_PRODUCER, &conf);
  if (!rk.ok()) {
    ADD_FAILURE() << rk.status().ToString();
    return {};
  }
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = -1, hi = -1;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(*rk, topic.c_str(), p, &lo, &hi, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    out.emplace_back(lo, hi);
  }
  rd_kafka_destroy(*rk);
  return out;
}

// The end offset (high watermark) of partitions 0..partitions-1.
inline std::vector<int64_t> EndOffsets(const std::string& brokers, const std::string& topic, int partitions) {
  std::vector<int64_t> out;
  for (const auto& [lo, hi] : Watermarks(brokers, topic, partitions)) out.push_back(hi);
  return out;
}

using ::sagaflow::testing::Child;

}  // namespace sagaflow::kafka::testing
