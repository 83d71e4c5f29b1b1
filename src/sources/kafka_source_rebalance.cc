// KafkaSource and the consumer group's rebalances: what an assignment starts
// from (the store's checkpoint, the group's offset and the log's bounds) and
// what a revocation finishes before it lets the partitions go. See
// docs/kafka.md.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "sources/kafka_source.h"

namespace sagaflow::sources {

namespace {

constexpr int kCommittedTimeoutMs = 10000;

}  // namespace

void KafkaSource::RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                    void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  // Known once the group has chosen an assignor (cooperative-sticky: incremental).
  self->cooperative_ = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->OnAssign(parts);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    self->OnRevoke(parts);
  } else {
    spdlog::error("kafka: rebalance failed: {}", kafka::ErrorText(err));
    self->OnRevoke(parts);
  }
}

void KafkaSource::OnAssign(rd_kafka_topic_partition_list_t* parts) {
  // 1. The store's checkpoints: what it already holds.
  std::vector<std::optional<Checkpoint>> stored(parts->cnt);
  for (int i = 0; i < parts->cnt && fatal_.ok(); ++i) {
    auto cp = checkpoints_->LoadCheckpoint(KeyFor(parts->elems[i].partition));
    if (!cp.ok()) {
      fatal_ = cp.status().WithContext("loading the store's checkpoint");
    } else {
      stored[i] = *cp;
    }
  }
  // 2. The group's committed offsets (unknown on failure: the store decides).
  PartitionList committed(rd_kafka_topic_partition_list_copy(parts));
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_, committed.get(), kCommittedTimeoutMs);
  if (err) spdlog::warn("kafka: fetching committed offsets: {}", kafka::ErrorText(err));
  // 3. The log's start and end, to check both against.
  std::vector<int64_t> low(parts->cnt, -1), end(parts->cnt, -1);
  QueryLogBounds(parts, &low, &end);
  // 4. Decide (DecidePartitionStart) and report what is not read.
  {
    std::lock_guard<std::mutex> lock(mu_);
    assigned_ = true;
    repair_pending_ = false;  // assigned partitions start after the store, and are committed there
    for (int i = 0; i < parts->cnt; ++i) {
      auto& e = parts->elems[i];
      const auto& c = committed->elems[i];
      PartitionOffsets known;
      known.group = !err && !c.err && c.offset >= 0 ? c.offset : -1;
      known.store = stored[i] ? static_cast<int64_t>(stored[i]->position) + 1 : -1;
      known.low = low[i];
      known.end = end[i];
      const std::string name = fmt::format("partition {} [{}] ({})", e.topic, e.partition, KeyFor(e.partition));
      Partition& p = partitions_[e.partition];
      if (p.key.empty()) p.key = KeyFor(e.partition);
      auto start = DecidePartitionStart(known, name);
      if (!start.ok()) {
        if (fatal_.ok()) fatal_ = start.status();
        spdlog::error("kafka: {}", start.status().message());
        p.owned = false;  // nothing of it is handed out
        e.offset = RD_KAFKA_OFFSET_END;
        continue;
      }
      if (start->group_ignored) {
        spdlog::warn(
            "kafka: {}: the group's offset {} lies beyond the partition's end {} (the topic was re-created?): "
            "ignored",
            name, known.group, known.end);
      }
      if (start->behind_to > start->behind_from) {
        spdlog::warn(
            "kafka: {}: the group committed up to offset {} but the store holds records only up to {}: reading "
            "offsets {}-{} again (the store lost acknowledged transactions, is a restored backup, or another store "
            "shares the group)",
            name, start->behind_to, start->behind_from - 1, start->behind_from, start->behind_to - 1);
      }
      if (start->lost_to > start->lost_from) {
        NoteLossLocked(name, start->lost_from, start->lost_to, "the stream continues at the log start");
      }
      e.offset = start->offset >= 0 ? start->offset : RD_KAFKA_OFFSET_INVALID;  // invalid: auto.offset.reset
      p.owned = true;
      p.at_end = false;
      p.read = -1;
      p.next = start->offset;
      p.acked = start->offset;  // the store holds everything before it
      p.committed = known.group;
      spdlog::info("kafka: assigned {} [{}]: group offset {}, store checkpoint {}, log {}-{}, starting at {}", e.topic,
                   e.partition, known.group >= 0 ? std::to_string(known.group) : "none",
                   known.store >= 0 ? std::to_string(known.store - 1) : "none", known.low, known.end,
                   start->offset >= 0 ? std::to_string(start->offset) : "the earliest");
    }
  }
  rd_kafka_error_t* error = nullptr;
  if (cooperative_) {
    error = rd_kafka_incremental_assign(rk_, parts);
  } else if (auto e = rd_kafka_assign(rk_, parts)) {
    fatal_ = Status::Unavailable("assigning partitions: " + kafka::ErrorText(e));
  }
  if (error) {
    fatal_ = Status::Unavailable(std::string("assigning partitions: ") + rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
}

void KafkaSource::OnRevoke(rd_kafka_topic_partition_list_t* parts) {
  const bool lost = rd_kafka_assignment_lost(rk_);
  std::unique_lock<std::mutex> lock(mu_);
  auto drained = [&] {
    if (no_more_acks_) return true;
    for (int i = 0; i < parts->cnt; ++i) {
      auto it = partitions_.find(parts->elems[i].partition);
      if (it != partitions_.end() && it->second.owned && it->second.read > it->second.acked) return false;
    }
    return true;
  };
  // Lost partitions may already be someone else's: nothing to finish.
  if (!lost && !drained()) {
    spdlog::info("kafka: partitions revoked: waiting up to {} ms for the records in flight to be stored",
                 options_.drain_timeout.count());
    acked_cv_.wait_for(lock, options_.drain_timeout, drained);
  }
  // Eager: everything is revoked and assigned anew; cooperative: only these
  // partitions go, unless the whole assignment was lost.
  if (!cooperative_ || lost) assigned_ = false;
  PartitionList commit(rd_kafka_topic_partition_list_new(parts->cnt));
  for (int i = 0; i < parts->cnt; ++i) {
    auto it = partitions_.find(parts->elems[i].partition);
    if (it == partitions_.end()) continue;
    Partition& p = it->second;
    if (p.owned && p.read > p.acked) {
      spdlog::warn(
          "kafka: revoked {} [{}] before the records up to offset {} were stored: they are not "
          "committed here, and the partition's next owner reads them again",
          options_.address.topic, it->first, p.read - 1);
    }
    if (p.owned && p.acked > p.committed) {
      if (lost) {
        repair_pending_ = true;  // no commit is possible outside the group
      } else {
        rd_kafka_topic_partition_list_add(commit.get(), options_.address.topic.c_str(), it->first)->offset = p.acked;
      }
    }
    p.owned = false;
    p.at_end = false;
  }
  lock.unlock();
  if (commit->cnt > 0) {
    rd_kafka_resp_err_t err = rd_kafka_commit(rk_, commit.get(), 0);
    if (err) {
      spdlog::warn("kafka: committing revoked partitions: {}", kafka::ErrorText(err));
      std::lock_guard<std::mutex> relock(mu_);
      repair_pending_ = true;
    } else {
      std::lock_guard<std::mutex> relock(mu_);
      for (int i = 0; i < commit->cnt; ++i) {
        Partition& p = partitions_[commit->elems[i].partition];
        p.committed = std::max(p.committed, commit->elems[i].offset);
      }
    }
  }
  if (cooperative_) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_, parts)) {
      spdlog::warn("kafka: unassigning partitions: {}", rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(rk_, nullptr);
  }
}

}  // namespace sagaflow::sources
