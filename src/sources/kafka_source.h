// KafkaSource: events from one Kafka topic, consumed as a consumer group
// (librdkafka's high-level consumer). Its streams are the topic's partitions,
// keyed "kafka:<cluster id>/<topic>/<partition>"; positions are offsets.
//
// Delivery (docs/kafka.md):
//  - Offsets are committed only for records the sink has acknowledged
//    (enable.auto.commit and enable.auto.offset.store are off): Acknowledge()
//    commits asynchronously, one commit in flight at a time so the group's
//    offset never moves back; failed commits are retried every second, and
//    Finish() commits synchronously before the consumer leaves the group.
//  - On assignment a partition starts after the sink's checkpoint when that
//    is ahead of the group's committed offset (the commit was lost after the
//    store write), so a record is stored once even then; the store's
//    (stream, position) key is the second guard.
//  - On revocation the records already read from the revoked partitions get
//    drain_timeout to be acknowledged; their offsets are then committed
//    before the partitions are released. Acknowledgements that come later
//    are ignored (never committed): the partition's next owner reads those
//    records again and the store ignores the ones it holds.
//  - Next() returns kIdle only when caught up: the consumer holds its group's
//    latest assignment (not between a revocation and the next), and every assigned partition is at the end the broker
//    reports now (not merely at the end the last successful fetch saw); otherwise, when nothing arrived, kWaiting.
//
// Thread-safety: Start() and Next() run on the pipeline's reading thread
// (rebalances are handled inside Next()), Acknowledge() on its commit thread,
// Finish() after both; StreamKey(), Lag() and RequestStop() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kafka/kafka_config.h"
#include "sources/source.h"

namespace sagaflow::sources {

struct KafkaSourceOptions {
  kafka::KafkaAddress address;  // the group is required
  size_t max_record_bytes = 1 << 20;
  // How long a revocation waits for the records read from the revoked
  // partitions to be stored and acknowledged.
  std::chrono::milliseconds drain_timeout{15000};
  // How long Start() waits for the cluster to answer.
  std::chrono::milliseconds connect_timeout{30000};
  // How long Finish() retries the final offset commit.
  std::chrono::milliseconds commit_timeout{30000};
  // group.instance.id (static membership): a member restarted with the same
  // id within the session timeout gets its partitions back without a
  // rebalance; empty = a dynamic member. Unique per consumer (a pod name).
  std::string instance_id;
};

// ConsumerProperties and DecidePartitionStart are defined in
// kafka_source_rules.cc: they need no consumer, and are unit-tested alone.

// The librdkafka properties a KafkaSource's consumer is created with, in the
// order they are applied (a later one wins): sagaflow's defaults (failover in
// seconds: session.timeout.ms=6000, the smallest a Kafka broker accepts by
// default, heartbeat.interval.ms=2000), the address's properties, the
// instance id, then the properties its delivery guarantee rests on.
Result<kafka::Properties> ConsumerProperties(const KafkaSourceOptions& options);

// What is known of a partition when it is assigned (-1: nothing, or unknown).
struct PartitionOffsets {
  int64_t store = -1;  // offset after the store's checkpoint: the store holds the stream up to it
  int64_t group = -1;  // the group's committed offset
  int64_t low = -1;    // log start offset: retention deleted everything before it
  int64_t end = -1;    // log end offset (high watermark)
};
struct PartitionStart {
  int64_t offset = -1;  // where to start; -1: auto.offset.reset decides (a new stream)
  // [lost_from, lost_to): deleted by retention before they were stored
  int64_t lost_from = 0, lost_to = 0;
  // [behind_from, behind_to): committed by the group but not in this store,
  // read again (the store lost acknowledged transactions, or is a restored
  // backup or another store sharing the group)
  int64_t behind_from = 0, behind_to = 0;
  bool group_ignored = false;  // the group's offset lay beyond the log end
};

// Where a partition starts (docs/kafka.md, "Where a partition starts"): after
// the store's checkpoint when the store holds the stream (it is the record of
// what is stored; the group's offset only ever follows it), else at the
// group's offset, else where auto.offset.reset says; never before the log
// start (what lies before it is reported lost); and never silently past the
// log end: a store checkpoint beyond it (the topic was re-created, or the
// cluster is not the one the store was filled from) is an InvalidArgument
// error naming `partition` and the way on (a new ?epoch=); a group offset
// beyond it is ignored (reported).
Result<PartitionStart> DecidePartitionStart(const PartitionOffsets& offsets, const std::string& partition);

// The error for a partition whose log lies below what the store holds of it
// (`what`: what was seen, naming the partition): the causes and the way on.
Status LogBelowStore(const std::string& what);

class KafkaSource final : public Source {
 public:
  // `uri`: kafka://BROKERS/TOPIC?group=G[&<librdkafka property>=V...].
  // `properties` (--kafka-config) come first: the address's own override them.
  static Result<std::unique_ptr<KafkaSource>> Open(const std::string& uri, size_t max_record_bytes,
                                                   const kafka::Properties& properties = {},
                                                   const std::string& instance_id = {});
  static Result<std::unique_ptr<KafkaSource>> Open(KafkaSourceOptions options);
  ~KafkaSource() override;

  std::string Describe() const override;
  Status Start(CheckpointReader* committed) override;
  const std::string& StreamKey(uint32_t stream) const override;
  Result<ReadResult> Next(Record* record) override;
  Status Acknowledge(uint32_t stream, const Checkpoint& checkpoint) override;
  Status Finish() override;
  std::vector<StreamLag> Lag() const override;
  uint64_t LostRecords() const override;
  bool KeepsOwnPositions() const override { return true; }
  void RequestStop() override;

 private:
  struct Partition {
    std::string key;         // StreamKey(); the entry is never erased, so the string stays put
    bool owned = false;      // assigned to this consumer now
    bool at_end = false;     // read up to the end it last heard of
    int64_t read = -1;       // offset after the last record handed out since assignment, -1 none
    int64_t next = -1;       // offset the next record should have (gaps are checked), -1 unknown
    int64_t acked = -1;      // offset after the last acknowledged record (what to commit), -1 none
    int64_t committed = -1;  // offset the group confirmed, -1 unknown
  };

  explicit KafkaSource(KafkaSourceOptions options);
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                void* opaque);
  static void CommitCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                             void* opaque);
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void OnAssign(rd_kafka_topic_partition_list_t* parts);
  void OnRevoke(rd_kafka_topic_partition_list_t* parts);
  // The log start and end offsets of `parts` (-1 where unknown).
  void QueryLogBounds(const rd_kafka_topic_partition_list_t* parts, std::vector<int64_t>* low,
                      std::vector<int64_t>* end);
  // Records [from, to) of `partition` were deleted before being read: counted and logged.
  void NoteLossLocked(const std::string& partition, int64_t from, int64_t to, const char* then);
  // A record at `offset` followed `expected`: a loss if retention deleted the records between.
  void NoteGapLocked(int32_t partition, int64_t expected, int64_t offset);
  struct ListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
  };
  using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;
  // The acknowledged offsets of owned partitions the group has not confirmed.
  PartitionList UncommittedLocked() const;
  // Commits them unless a commit is in flight (CommitCallback chains the next).
  void CommitAsyncLocked();
  // Commits them and waits for the answer.
  rd_kafka_resp_err_t CommitSync();
  void RetryCommits();
  bool CaughtUpLocked() const;
  // CaughtUpLocked(), confirmed by the broker's end offsets (at most every
  // 500 ms; in between the last answer holds).
  bool ConfirmCaughtUp();
  std::string KeyFor(int32_t partition) const;

  KafkaSourceOptions options_;
  rd_kafka_t* rk_ = nullptr;
  bool cooperative_ = false;
  bool closed_ = false;
  std::string cluster_id_;
  CheckpointReader* checkpoints_ = nullptr;
  std::string buffer_;  // the current record's payload + kPayloadPadding
  Status fatal_;        // set by callbacks on the reading thread
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::time_point last_retry_, last_commit_warning_, last_confirmation_;
  bool confirmed_ = false;

  mutable std::mutex mu_;
  std::condition_variable acked_cv_;
  std::map<int32_t, Partition> partitions_;
  bool assigned_ = false;          // the group's latest assignment arrived (possibly empty)
  bool commit_in_flight_ = false;  // an asynchronous commit awaits its result
  // Partitions left this consumer with acknowledged offsets not committed
  // (session lost, or the revocation's commit failed); cleared by the next
  // assignment, which starts after the store and commits there.
  bool repair_pending_ = false;
  bool no_more_acks_ = false;      // Finish() began: nothing will be acknowledged any more
  uint64_t dropped_acks_ = 0;      // acknowledgements for partitions already revoked
  std::atomic<uint64_t> lost_{0};  // records deleted by retention before they were read
  // Lag() of the moment Finish() committed the final offsets, which Lag()
  // answers after the consumer closed (for the run's summary).
  std::vector<StreamLag> final_lag_;
};

}  // namespace sagaflow::sources
