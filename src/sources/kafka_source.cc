#include "sources/kafka_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <thread>

namespace sagaflow::sources {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPollMs = 100;
constexpr auto kRetryEvery = std::chrono::seconds(1);
constexpr auto kConfirmEvery = std::chrono::milliseconds(500);
constexpr int kConfirmTimeoutMs = 2000;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// librdkafka's own log lines (syslog levels) into spdlog.
void LogCallback(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  auto lvl = level <= 3   ? spdlog::level::err
             : level == 4 ? spdlog::level::warn
             : level <= 6 ? spdlog::level::info
                          : spdlog::level::debug;
  spdlog::log(lvl, "kafka: {}: {}", fac, buf);
}

}  // namespace

KafkaSource::KafkaSource(KafkaSourceOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<KafkaSource>> KafkaSource::Open(const std::string& uri, size_t max_record_bytes,
                                                       const kafka::Properties& properties,
                                                       const std::string& instance_id) {
  auto address = kafka::ParseKafkaAddress(uri);
  if (!address.ok()) return address.status();
  KafkaSourceOptions o;
  o.address = std::move(*address);
  o.address.properties.insert(o.address.properties.begin(), properties.begin(), properties.end());
  o.max_record_bytes = max_record_bytes;
  o.instance_id = instance_id;
  return Open(std::move(o));
}

Result<std::unique_ptr<KafkaSource>> KafkaSource::Open(KafkaSourceOptions options) {
  auto properties = ConsumerProperties(options);
  if (!properties.ok()) return properties.status();
  return std::unique_ptr<KafkaSource>(new KafkaSource(std::move(options)));
}

KafkaSource::~KafkaSource() {
  if (!rk_) return;
  if (!closed_) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      no_more_acks_ = true;
    }
    rd_kafka_consumer_close(rk_);
  }
  rd_kafka_destroy(rk_);
}

std::string KafkaSource::Describe() const {
  // Without the properties: they may hold credentials, and this is stored.
  const auto& a = options_.address;
  return fmt::format("kafka://{}/{}?group={}{}", a.brokers, a.topic, a.group,
                     a.epoch.empty() ? "" : "&epoch=" + a.epoch);
}

std::string KafkaSource::KeyFor(int32_t partition) const {
  // A new epoch makes new streams of the same partitions (a re-created topic).
  const auto& a = options_.address;
  return a.epoch.empty() ? fmt::format("kafka:{}/{}/{}", cluster_id_, a.topic, partition)
                         : fmt::format("kafka:{}/{}@{}/{}", cluster_id_, a.topic, a.epoch, partition);
}

void KafkaSource::RequestStop() { stop_.store(true, std::memory_order_relaxed); }

Status KafkaSource::Start(CheckpointReader* committed) {
  checkpoints_ = committed;
  const kafka::KafkaAddress& a = options_.address;
  auto properties = ConsumerProperties(options_);
  if (!properties.ok()) return properties.status();
  kafka::Config conf;
  SAGAFLOW_RETURN_IF_ERROR(conf.Set(*properties));
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::RebalanceCallback);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &KafkaSource::CommitCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaSource::ErrorCallback);
  rd_kafka_conf_set_log_cb(conf.get(), &LogCallback);
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, &conf);
  if (!rk.ok()) return rk.status();
  rk_ = *rk;

  // The cluster id is part of every stream key: a checkpoint taken on one
  // cluster must never move a consumer of another (a new dev broker, a
  // restored cluster) past records it has not stored.
  const auto deadline = Clock::now() + options_.connect_timeout;
  while (cluster_id_.empty()) {
    rd_kafka_poll(rk_, 0);  // the error callback: an authentication or TLS failure ends the wait
    if (!fatal_.ok()) return fatal_;
    if (char* id = rd_kafka_clusterid(rk_, 1000)) {
      cluster_id_ = id;
      rd_kafka_mem_free(rk_, id);
    } else if (stop_.load() || Clock::now() >= deadline) {
      return Status::Unavailable(
          fmt::format("no answer from Kafka at {} within {} s", a.brokers, options_.connect_timeout.count() / 1000));
    }
  }
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk_, a.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, topic, &md, 10000);
  rd_kafka_topic_destroy(topic);
  if (err) return Status::Unavailable(fmt::format("metadata of topic {}: {}", a.topic, kafka::ErrorText(err)));
  err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  rd_kafka_metadata_destroy(md);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return Status::NotFound(fmt::format("topic {} does not exist on {}", a.topic, a.brokers));
  }
  if (err) return Status::Unavailable(fmt::format("topic {}: {}", a.topic, kafka::ErrorText(err)));

  rd_kafka_poll_set_consumer(rk_);
  PartitionList subscription(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(subscription.get(), a.topic.c_str(), RD_KAFKA_PARTITION_UA);
  err = rd_kafka_subscribe(rk_, subscription.get());
  if (err) return Status::Unavailable(fmt::format("subscribing to {}: {}", a.topic, kafka::ErrorText(err)));
  spdlog::info("kafka: consuming {} as group {}{} (cluster {})", a.topic, a.group,
               options_.instance_id.empty() ? "" : ", static member " + options_.instance_id, cluster_id_);
  return Status::Ok();
}

const std::string& KafkaSource::StreamKey(uint32_t stream) const {
  static const std::string kUnknown = "kafka:unknown";
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(static_cast<int32_t>(stream));
  return it == partitions_.end() ? kUnknown : it->second.key;
}

Result<Source::ReadResult> KafkaSource::Next(Record* record) {
  for (;;) {
    if (!fatal_.ok()) return fatal_;
    if (stop_.load(std::memory_order_relaxed)) return ReadResult::kEnd;
    Message m(rd_kafka_consumer_poll(rk_, kPollMs));
    if (!m) {
      RetryCommits();
      return ConfirmCaughtUp() ? ReadResult::kIdle : ReadResult::kWaiting;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = partitions_.find(m->partition);
      if (it != partitions_.end() && it->second.owned) it->second.at_end = true;
      continue;
    }
    if (m->err) {
      // Consumer errors are reported and retried by librdkafka (a broker
      // down, a leader moving); only fatal ones end the run.
      char reason[512];
      if (rd_kafka_fatal_error(rk_, reason, sizeof reason)) {
        return Status::Unavailable(std::string("Kafka consumer failed: ") + reason);
      }
      spdlog::warn("kafka: partition {}: {}: {}", m->partition, kafka::ErrorText(m->err),
                   rd_kafka_message_errstr(m.get()));
      continue;
    }
    if (!fatal_.ok()) return fatal_;  // set by a rebalance served in this poll
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = partitions_.find(m->partition);
      if (it == partitions_.end() || !it->second.owned) continue;  // fetched before a revocation
      Partition& p = it->second;
      if (p.next >= 0 && m->offset < p.next) {
        // Within an assignment offsets only go up, unless the fetch ran out
        // of range and auto.offset.reset moved the consumer back: the log
        // now ends below what the store holds (the topic was re-created
        // while this consumer read it, or its end was unknown at the
        // assignment). Stored, these records would be dropped as duplicates.
        fatal_ = LogBelowStore(fmt::format("partition {} [{}] ({}) went back from offset {} to offset {}",
                                           options_.address.topic, m->partition, p.key, p.next, m->offset));
        spdlog::error("kafka: {}", fatal_.message());
        p.owned = false;  // nothing more of it is handed out or committed
        return fatal_;
      }
      if (p.next >= 0 && m->offset > p.next) NoteGapLocked(m->partition, p.next, m->offset);
      p.next = m->offset + 1;
      p.at_end = false;
      p.read = m->offset + 1;
    }
    record->stream = static_cast<uint32_t>(m->partition);
    record->position = static_cast<uint64_t>(m->offset);
    record->line = 0;
    record->size = m->len;
    if (m->len > options_.max_record_bytes) {
      record->kind = Record::Kind::kTooLarge;
      record->payload = {};
    } else {
      // Copied: the contract wants kPayloadPadding readable bytes after it.
      buffer_.resize(m->len + kPayloadPadding);
      if (m->len) std::memcpy(buffer_.data(), m->payload, m->len);
      record->kind = Record::Kind::kPayload;
      record->payload = std::string_view(buffer_.data(), m->len);
    }
    return ReadResult::kRecord;
  }
}

bool KafkaSource::ConfirmCaughtUp() {
  PartitionList ends;
  std::vector<int64_t> expected;  // the end each partition must have for us to be at it
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!CaughtUpLocked()) return false;
    const auto now = Clock::now();
    if (now - last_confirmation_ < kConfirmEvery) return confirmed_;
    last_confirmation_ = now;
    confirmed_ = false;
    ends.reset(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
    for (const auto& [id, p] : partitions_) {
      if (!p.owned) continue;
      int64_t at = p.read >= 0 ? p.read : p.acked;
      int64_t low = -1, high = -1;
      if (at < 0 && !rd_kafka_get_watermark_offsets(rk_, options_.address.topic.c_str(), id, &low, &high)) at = low;
      if (at < 0) return false;
      // Timestamp "latest" (-1): the answer is the partition's end offset.
      rd_kafka_topic_partition_list_add(ends.get(), options_.address.topic.c_str(), id)->offset = -1;
      expected.push_back(at);
    }
  }
  // The end-of-partition events say what the last successful fetches saw;
  // while fetches fail they go stale. Ask the broker.
  if (ends->cnt > 0 && rd_kafka_offsets_for_times(rk_, ends.get(), kConfirmTimeoutMs)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < ends->cnt; ++i) {
    const auto& e = ends->elems[i];
    if (e.err || e.offset > expected[i]) {
      auto it = partitions_.find(e.partition);
      if (!e.err && it != partitions_.end()) it->second.at_end = false;  // more to fetch: wait for it
      return false;
    }
  }
  confirmed_ = true;
  return true;
}

bool KafkaSource::CaughtUpLocked() const {
  if (!assigned_) return false;  // not in the group (yet, or again after a revocation)
  for (const auto& [id, p] : partitions_) {
    if (p.owned && !p.at_end) return false;
  }
  return true;
}

Status KafkaSource::Acknowledge(uint32_t stream, const Checkpoint& checkpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(static_cast<int32_t>(stream));
  if (it == partitions_.end()) return Status::Internal(fmt::format("acknowledged unknown partition {}", stream));
  Partition& p = it->second;
  const int64_t offset = static_cast<int64_t>(checkpoint.position) + 1;
  if (!p.owned) {
    ++dropped_acks_;  // revoked before the store acknowledged it: never commit it
    return Status::Ok();
  }
  if (offset <= p.acked) return Status::Ok();
  p.acked = offset;
  acked_cv_.notify_all();
  CommitAsyncLocked();
  return Status::Ok();
}

KafkaSource::PartitionList KafkaSource::UncommittedLocked() const {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (const auto& [id, p] : partitions_) {
    if (p.owned && p.acked > p.committed) {
      rd_kafka_topic_partition_list_add(list.get(), options_.address.topic.c_str(), id)->offset = p.acked;
    }
  }
  return list;
}

void KafkaSource::CommitAsyncLocked() {
  // One commit at a time: librdkafka retries a failed commit later (when the
  // coordinator is back), which could land after a newer one and move the
  // group's offset back. The next commit goes out when CommitCallback has
  // the result of this one, carrying every offset acknowledged meanwhile.
  if (commit_in_flight_) return;
  PartitionList list = UncommittedLocked();
  if (list->cnt == 0) return;
  if (rd_kafka_commit(rk_, list.get(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR) commit_in_flight_ = true;
}

void KafkaSource::RetryCommits() {
  const auto now = Clock::now();
  if (now - last_retry_ < kRetryEvery) return;
  last_retry_ = now;
  std::lock_guard<std::mutex> lock(mu_);
  CommitAsyncLocked();
}

rd_kafka_resp_err_t KafkaSource::CommitSync() {
  PartitionList list;
  {
    std::lock_guard<std::mutex> lock(mu_);
    list = UncommittedLocked();
  }
  if (list->cnt == 0) return RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list.get(), 0);
  if (!err) {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < list->cnt; ++i) {
      Partition& p = partitions_[list->elems[i].partition];
      p.committed = std::max(p.committed, list->elems[i].offset);
    }
  }
  return err;
}

Status KafkaSource::Finish() {
  if (!rk_ || closed_) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(mu_);
    no_more_acks_ = true;
  }
  acked_cv_.notify_all();
  // The final commit, after the one in flight (so it is the last to land),
  // retried: a run that ends (stop-when-idle, SIGTERM) leaves its offsets
  // committed, or says it could not. If the group took partitions away
  // before their offsets were committed (a lost session), it rejoins to get
  // them back: the assignment starts them after the store's checkpoints and
  // the commit below brings the group there. Polling serves commit results
  // and rebalances; records read now are not handed out, so neither stored
  // nor committed.
  Status result;
  const auto deadline = Clock::now() + options_.commit_timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      const bool rejoining = repair_pending_ && !assigned_;
      if ((!commit_in_flight_ && !rejoining) || Clock::now() >= deadline) break;
    }
    Message(rd_kafka_consumer_poll(rk_, kPollMs));
  }
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    rd_kafka_resp_err_t err = CommitSync();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!err && repair_pending_ && !assigned_) err = RD_KAFKA_RESP_ERR__STATE;  // still outside the group
    }
    if (!err) break;
    if (Clock::now() + backoff >= deadline) {
      result = Status::Unavailable(fmt::format("committing the final offsets: {}", kafka::ErrorText(err)));
      break;
    }
    spdlog::warn("kafka: final offset commit failed ({}); retrying", kafka::ErrorText(err));
    const auto until = Clock::now() + backoff;
    while (Clock::now() < until) Message(rd_kafka_consumer_poll(rk_, kPollMs));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  std::vector<StreamLag> lag = Lag();
  for (const StreamLag& l : lag) {
    spdlog::info("kafka: {}: committed {}, end {}, lag {}", l.key, l.committed, l.end, l.lag);
  }
  uint64_t dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped = dropped_acks_;
  }
  if (dropped)
    spdlog::info("kafka: {} acknowledgements came after their partition was revoked (not committed)", dropped);
  // A dynamic member leaves the group at once, so its partitions move to
  // other consumers now rather than after the session timeout. A static one
  // (group.instance.id) does not send LeaveGroup: its partitions wait one
  // session timeout for it to come back (a restarted pod), then move.
  if (!result.ok()) {
    spdlog::error(
        "kafka: {}; the store holds what was read, and whoever reads the partitions next starts after it "
        "and commits it",
        result.message());
  }
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    final_lag_ = std::move(lag);
  }
  if (err && result.ok()) result = Status::Unavailable("leaving the consumer group: " + kafka::ErrorText(err));
  if (result.ok()) spdlog::info("kafka: offsets committed; left group {}", options_.address.group);
  return result;
}

std::vector<StreamLag> KafkaSource::Lag() const {
  std::vector<StreamLag> out;
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return final_lag_;
  if (!rk_) return out;
  for (const auto& [id, p] : partitions_) {
    if (!p.owned) continue;
    StreamLag l;
    l.key = p.key;
    l.committed = std::max(p.acked, p.committed);
    int64_t low = -1, high = -1;
    // Cached by the fetcher: no request, safe on any thread.
    if (!rd_kafka_get_watermark_offsets(rk_, options_.address.topic.c_str(), id, &low, &high) && high >= 0) {
      l.end = high;
      l.lag = std::max<int64_t>(0, high - std::max(l.committed, low));
    }
    out.push_back(std::move(l));
  }
  return out;
}

void KafkaSource::CommitCallback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                                 void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) {  // nothing to commit
    std::lock_guard<std::mutex> lock(self->mu_);
    self->commit_in_flight_ = false;
    return;
  }
  bool failed = err != RD_KAFKA_RESP_ERR_NO_ERROR;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->commit_in_flight_ = false;
    for (int i = 0; offsets && i < offsets->cnt; ++i) {
      const auto& e = offsets->elems[i];
      auto it = self->partitions_.find(e.partition);
      if (it == self->partitions_.end()) continue;
      if (!err && !e.err && e.offset > it->second.committed) it->second.committed = e.offset;
      if (e.err) failed = true;
    }
    // What was acknowledged meanwhile; after a failure RetryCommits() waits a second.
    if (!failed) self->CommitAsyncLocked();
  }
  if (failed) {
    // Retried every second: warn now and then, not per batch.
    const auto now = Clock::now();
    if (now - self->last_commit_warning_ > std::chrono::seconds(5)) {
      self->last_commit_warning_ = now;
      spdlog::warn("kafka: offset commit failed ({}); retrying", kafka::ErrorText(err));
    }
  }
}

void KafkaSource::ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    self->fatal_ = Status::Unavailable(std::string("Kafka consumer failed: ") + why);
    return;
  }
  // Wrong credentials, mechanism or certificates: retrying cannot help.
  if (kafka::IsSecurityError(static_cast<rd_kafka_resp_err_t>(err), reason)) {
    if (self->fatal_.ok()) {
      self->fatal_ =
          Status::InvalidArgument(fmt::format("Kafka at {}: {}: {}", self->options_.address.brokers,
                                              rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason));
    }
    return;
  }
  // Transient (a broker down, all brokers down): librdkafka keeps retrying.
  spdlog::warn("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

}  // namespace sagaflow::sources
