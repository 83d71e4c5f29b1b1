// KafkaSource and offset gaps: the log's bounds that an assignment is checked
// against, and the records retention deleted before they were read (counted
// and logged). See docs/kafka.md, "Offset gaps: never silent".
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "sources/kafka_source.h"

namespace sagaflow::sources {

namespace {

constexpr int kListOffsetsTimeoutMs = 10000;

}  // namespace

void KafkaSource::QueryLogBounds(const rd_kafka_topic_partition_list_t* parts, std::vector<int64_t>* low,
                                 std::vector<int64_t>* end) {
  // ListOffsets with the timestamps "earliest" (-2) and "latest" (-1), one
  // request per leader for all the partitions.
  for (auto [timestamp, out] : {std::pair{int64_t{-2}, low}, std::pair{int64_t{-1}, end}}) {
    PartitionList list(rd_kafka_topic_partition_list_copy(parts));
    for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = timestamp;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_, list.get(), kListOffsetsTimeoutMs);
    for (int i = 0; i < list->cnt; ++i) {
      if (!err && !list->elems[i].err && list->elems[i].offset >= 0) (*out)[i] = list->elems[i].offset;
    }
    if (err) {
      spdlog::warn("kafka: asking for the partitions' {} offsets: {}; their starts are not checked against the log",
                   timestamp == -2 ? "first" : "end", kafka::ErrorText(err));
    }
  }
}

void KafkaSource::NoteLossLocked(const std::string& partition, int64_t from, int64_t to, const char* then) {
  lost_.fetch_add(static_cast<uint64_t>(to - from), std::memory_order_relaxed);
  spdlog::error(
      "kafka: {}: {} records (offsets {}-{}) were deleted by the topic's retention before they were read and "
      "stored: they are lost to this store; {} (the consumers fell behind retention: consume faster or keep "
      "records longer)",
      partition, to - from, from, to - 1, then);
}

void KafkaSource::NoteGapLocked(int32_t partition, int64_t expected, int64_t offset) {
  // Offsets may skip for good reasons (compaction, transaction markers);
  // records are lost when the log now starts past the offset expected: the
  // fetch ran out of range and auto.offset.reset moved the consumer on.
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(rk_, options_.address.topic.c_str(), partition, &low, &high) || low <= expected) {
    return;
  }
  NoteLossLocked(fmt::format("partition {} [{}] ({})", options_.address.topic, partition, KeyFor(partition)), expected,
                 std::min(low, offset), "reading goes on after them");
}

uint64_t KafkaSource::LostRecords() const { return lost_.load(std::memory_order_relaxed); }

}  // namespace sagaflow::sources
