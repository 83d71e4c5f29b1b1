// DevBroker: librdkafka's built-in mock cluster (rdkafka_mock.h) as a real
// Kafka-protocol broker for local runs and tests on machines without Kafka.
// It is a test broker: it keeps only about the newest 5 MB of each partition.
//
// Faults are injected through Control(), which takes one text command:
//   fail <Api> <count> <Error>  next <count> requests of <Api> fail with <Error>
//                               (Api: Produce, Fetch, ListOffsets, Metadata,
//                               OffsetCommit, OffsetFetch, FindCoordinator,
//                               JoinGroup, Heartbeat, LeaveGroup, SyncGroup or
//                               a number; Error: a librdkafka error name such
//                               as NOT_LEADER_FOR_PARTITION or _TRANSPORT)
//   down <broker|-1>            disconnect a broker and refuse connections
//   up <broker|-1>              accept connections again
//   rtt <broker|-1> <ms>        add round-trip delay
//   clear <Api>                 drop pending injected errors
//
// Thread-safety: Control() may be called from any one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "util/status.h"

namespace sagaflow::kafka {

struct DevBrokerOptions {
  int brokers = 1;  // number of mock brokers (ids 1..brokers)
  std::string topic = "events";
  int partitions = 4;  // partitions of `topic`, created up front
};

class DevBroker {
 public:
  static Result<std::unique_ptr<DevBroker>> Start(const DevBrokerOptions& options);
  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  // "host:port[,host:port...]" for bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }

  // Applies one control command (see the header comment).
  Status Control(const std::string& command);

 private:
  DevBroker() = default;
  struct Handles;
  std::unique_ptr<Handles> h_;
  std::string bootstrap_;
};

}  // namespace sagaflow::kafka
