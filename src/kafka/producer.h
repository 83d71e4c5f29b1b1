// KafkaProducer: publishes keyed records to one topic and checks every
// delivery report, so a caller learns whether each record reached the
// broker. Idempotent (enable.idempotence): librdkafka's retries neither
// duplicate nor reorder records of a partition, which a consumer counting
// records by offset relies on. Records with the same key go to the same
// partition, PartitionFor(key, partitions) (librdkafka's consistent_random
// partitioner, set explicitly), keeping their order.
//
// Not thread-safe: one thread sends and flushes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kafka/kafka_config.h"

namespace sagaflow::kafka {

struct ProducerOptions {
  std::string brokers;  // bootstrap.servers
  std::string topic;
  Properties properties;  // extra librdkafka properties (e.g. message.max.bytes)
};

// The partition KafkaProducer sends a record with this non-empty key to in a
// topic of `partitions` partitions (CRC32 of the key modulo partitions), unless
// ProducerOptions::properties sets another "partitioner". Lets a caller know
// each partition's load before producing (bench kafka sizes its topic so).
int32_t PartitionFor(std::string_view key, int32_t partitions);

class KafkaProducer {
 public:
  static Result<std::unique_ptr<KafkaProducer>> Open(const ProducerOptions& options);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one record (copied), waiting while the local queue is full.
  // Fails when the record is refused (too large, unknown topic) or once a
  // delivery has failed: going on would only hide the gap.
  Status Send(std::string_view key, std::string_view value);

  // Waits up to `timeout` for the delivery report of every record sent;
  // fails unless all were delivered. Send and Flush fail at once, with
  // librdkafka's reason, on an authentication or TLS failure.
  Status Flush(std::chrono::milliseconds timeout);

  uint64_t sent() const { return sent_; }
  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }

 private:
  explicit KafkaProducer(ProducerOptions options) : options_(std::move(options)) {}
  static void DeliveryCallback(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  Status FailureStatus() const;

  ProducerOptions options_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  uint64_t sent_ = 0, delivered_ = 0, failed_ = 0;
  std::string first_failure_;
  std::string security_failure_;  // an authentication or TLS error: nothing can be delivered
};

}  // namespace sagaflow::kafka
