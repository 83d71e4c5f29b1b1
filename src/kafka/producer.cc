#include "kafka/producer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sagaflow::kafka {

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Open(const ProducerOptions& options) {
  std::unique_ptr<KafkaProducer> p(new KafkaProducer(options));
  Config conf;
  SAGAFLOW_RETURN_IF_ERROR(conf.Set("bootstrap.servers", options.brokers));
  SAGAFLOW_RETURN_IF_ERROR(conf.Set("client.id", "sagaflow-produce"));
  SAGAFLOW_RETURN_IF_ERROR(conf.Set("enable.idempotence", "true"));  // implies acks=all
  SAGAFLOW_RETURN_IF_ERROR(conf.Set("linger.ms", "5"));
  // librdkafka's default today; explicit because PartitionFor relies on it.
  SAGAFLOW_RETURN_IF_ERROR(conf.Set("partitioner", "consistent_random"));
  SAGAFLOW_RETURN_IF_ERROR(conf.Set(options.properties));
  rd_kafka_conf_set_opaque(conf.get(), p.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducer::DeliveryCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaProducer::ErrorCallback);
  auto rk = NewClient(RD_KAFKA_PRODUCER, &conf);
  if (!rk.ok()) return rk.status();
  p->rk_ = *rk;
  p->topic_ = rd_kafka_topic_new(p->rk_, options.topic.c_str(), nullptr);
  if (!p->topic_) return Status::InvalidArgument("topic " + options.topic + ": " + ErrorText(rd_kafka_last_error()));
  return p;
}

int32_t PartitionFor(std::string_view key, int32_t partitions) {
  // The partitioner itself (public API); it reads neither the topic handle
  // nor the opaques for a non-empty key.
  return rd_kafka_msg_partitioner_consistent_random(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
}

KafkaProducer::~KafkaProducer() {
  if (topic_) rd_kafka_topic_destroy(topic_);
  if (rk_) rd_kafka_destroy(rk_);
}

void KafkaProducer::DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  if (!m->err) {
    ++self->delivered_;
    return;
  }
  if (self->failed_++ == 0) {
    self->first_failure_ = fmt::format("partition {}: {}", m->partition, ErrorText(m->err));
  }
}

void KafkaProducer::ErrorCallback(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  const auto e = static_cast<rd_kafka_resp_err_t>(err);
  if (IsSecurityError(e, reason)) {
    if (self->security_failure_.empty()) {
      self->security_failure_ =
          fmt::format("Kafka at {}: {}: {}", self->options_.brokers, rd_kafka_err2name(e), reason);
    }
    return;
  }
  spdlog::warn("kafka: {}: {}", rd_kafka_err2name(e), reason);  // transient: librdkafka retries
}

Status KafkaProducer::FailureStatus() const {
  if (!security_failure_.empty()) return Status::InvalidArgument(security_failure_);
  return Status::Unavailable(
      fmt::format("{} of {} records not delivered to {} (first: {})", failed_, sent_, options_.topic, first_failure_));
}

Status KafkaProducer::Send(std::string_view key, std::string_view value) {
  for (;;) {
    rd_kafka_poll(rk_, 0);  // delivery reports
    if (failed_ || !security_failure_.empty()) return FailureStatus();
    if (rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
                         value.size(), key.data(), key.size(), nullptr) == 0) {
      ++sent_;
      return Status::Ok();
    }
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::Unavailable(fmt::format("producing to {}: {}", options_.topic, ErrorText(err)));
    }
    rd_kafka_poll(rk_, 50);  // the queue drains as deliveries complete
  }
}

Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  // In steps, so that an authentication or TLS failure ends the wait.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  do {
    err = rd_kafka_flush(rk_, 100);
    rd_kafka_poll(rk_, 0);
    if (failed_ || !security_failure_.empty()) return FailureStatus();
  } while (err == RD_KAFKA_RESP_ERR__TIMED_OUT && std::chrono::steady_clock::now() < deadline);
  if (err || delivered_ != sent_) {
    return Status::Unavailable(fmt::format("{} of {} records sent to {} not confirmed within {} s", sent_ - delivered_,
                                           sent_, options_.topic, timeout.count() / 1000));
  }
  return Status::Ok();
}

}  // namespace sagaflow::kafka
