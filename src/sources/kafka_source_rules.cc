// The rules of a KafkaSource that need no consumer (unit-tested without a
// broker): the properties its consumer is created with, and where an
// assigned partition starts (declared in kafka_source.h).
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "sources/kafka_source.h"

namespace sagaflow::sources {

namespace {

// Properties sagaflow sets itself because its delivery guarantee rests on them.
constexpr const char* kReserved[] = {
    "bootstrap.servers",    "group.id",     "enable.auto.commit", "enable.auto.offset.store",
    "enable.partition.eof", "rebalance_cb", "offset_commit_cb"};

}  // namespace

Result<kafka::Properties> ConsumerProperties(const KafkaSourceOptions& o) {
  const kafka::KafkaAddress& a = o.address;
  if (a.group.empty()) {
    return Status::InvalidArgument(
        fmt::format("kafka://{}/{}: a consumer group is required (?group=NAME)", a.brokers, a.topic));
  }
  for (const auto& [k, v] : a.properties) {
    for (const char* r : kReserved) {
      if (k == r) return Status::InvalidArgument(fmt::format("Kafka property {} is set by sagaflow", k));
    }
    if (k == "group.instance.id" && !o.instance_id.empty() && v != o.instance_id) {
      return Status::InvalidArgument(fmt::format(
          "the instance id \"{}\" contradicts the address's group.instance.id=\"{}\": give one", o.instance_id, v));
    }
  }
  kafka::Properties p = {
      {"bootstrap.servers", a.brokers},
      {"group.id", a.group},
      {"client.id", "sagaflow"},
      {"auto.offset.reset", "earliest"},
      // Failover in seconds: a member that dies without leaving the group
      // (SIGKILL, a lost node) holds its partitions until the broker misses
      // its heartbeats for this long (librdkafka's default: 45 s). 6 s is
      // the broker's default group.min.session.timeout.ms, the smallest it
      // accepts; heartbeats every third of it, as Kafka recommends, also
      // tell the survivors of a rebalance within 2 s.
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "2000"},
      // A fetch that finds nothing new waits this long at the broker. Kafka
      // answers as soon as records arrive, but the dev broker (librdkafka's
      // mock) always waits it out, so it bounds how late a caught-up consumer
      // sees a new record there (the default, 500 ms, would dominate the latency).
      {"fetch.wait.max.ms", "100"},
      // Larger records must still arrive (as too_large dead letters).
      {"fetch.message.max.bytes", std::to_string(std::max<size_t>(o.max_record_bytes + 4096, 1 << 20))},
  };
  p.insert(p.end(), a.properties.begin(), a.properties.end());
  if (!o.instance_id.empty()) p.emplace_back("group.instance.id", o.instance_id);
  p.emplace_back("enable.auto.commit", "false");
  p.emplace_back("enable.auto.offset.store", "false");
  p.emplace_back("enable.partition.eof", "true");
  return p;
}

Status LogBelowStore(const std::string& what) {
  return Status::InvalidArgument(fmt::format(
      "{}: the topic was deleted and created again, or this is not the cluster the store was filled from. Nothing "
      "was read or skipped. To store the partition's records as a new stream (what the store holds of the old one "
      "stays), add &epoch=N with a new N to the source address (docs/kafka.md, \"Offset gaps\")",
      what));
}

Result<PartitionStart> DecidePartitionStart(const PartitionOffsets& o, const std::string& partition) {
  PartitionStart s;
  if (o.store >= 0 && o.end >= 0 && o.store > o.end) {
    return LogBelowStore(
        fmt::format("{} ends at offset {}, but the store holds it up to offset {}", partition, o.end, o.store - 1));
  }
  int64_t group = o.group;
  if (group >= 0 && o.end >= 0 && group > o.end) {
    s.group_ignored = true;
    group = -1;
  }
  if (o.store >= 0) {
    s.offset = o.store;
    if (group > o.store) s.behind_from = o.store, s.behind_to = group;
  } else {
    s.offset = group;
  }
  if (s.offset >= 0 && o.low > s.offset) {
    s.lost_from = s.offset, s.lost_to = o.low;
    s.offset = o.low;
  }
  return s;
}

}  // namespace sagaflow::sources
