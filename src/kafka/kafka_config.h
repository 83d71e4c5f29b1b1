// librdkafka plumbing shared by the Kafka source and producer: the address
// of a topic, kafka://BROKERS/TOPIC?group=G&<librdkafka property>=V..., and
// an owned rd_kafka_conf_t whose errors are Status values.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace sagaflow::kafka {

// librdkafka properties in the order given, e.g. {"session.timeout.ms", "6000"}.
using Properties = std::vector<std::pair<std::string, std::string>>;

struct KafkaAddress {
  std::string brokers;  // bootstrap.servers: "host:port[,host:port...]"
  std::string topic;
  std::string group;      // ?group= (consumer group id), may be empty
  Properties properties;  // every other query parameter: a librdkafka property (its name has a '.')
  // ?epoch= : a new epoch makes the topic's partitions new streams (after the
  // topic was re-created, docs/kafka.md); empty = the first. [a-zA-Z0-9._-]+
  std::string epoch;
};

// Parses "kafka://BROKERS/TOPIC[?k=v&...]". Values are percent-decoded.
// Parameters: group=G, epoch=E, and librdkafka properties (names with a '.'); any
// other name is an error, so a typo is not silently ignored.
Result<KafkaAddress> ParseKafkaAddress(std::string_view uri);

// librdkafka properties from a file (`--kafka-config FILE`, like kcat's -F
// and the Java clients' .properties): one "name=value" a line, spaces around
// the name and '=' ignored, blank lines and lines starting with '#' skipped.
// Errors name the file and line, never a secret value (util/redact.h).
// kIoError if the file cannot be read, kInvalidArgument if a line is bad.
Result<Properties> LoadPropertiesFile(const std::string& path);

// A property value as librdkafka gets it: "${env:NAME}" is the environment
// variable NAME and "${file:PATH}" the content of PATH (one trailing newline
// dropped), so that a Kubernetes Secret (variables or a mounted file) can
// supply what the file or address only names; any other value as is.
Result<std::string> ResolveValue(const std::string& key, const std::string& value);

// True for errors that no retry can fix: authentication (SASL) and TLS
// failures, reported through the error callback while librdkafka would
// otherwise keep reconnecting.
bool IsSecurityError(rd_kafka_resp_err_t err, std::string_view reason);

// An rd_kafka_conf_t, destroyed unless released to rd_kafka_new().
class Config {
 public:
  Config() : conf_(rd_kafka_conf_new()) {}
  ~Config() {
    if (conf_) rd_kafka_conf_destroy(conf_);
  }
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  // Sets `key` to ResolveValue(key, value).
  Status Set(const std::string& key, const std::string& value);
  Status Set(const Properties& properties);
  rd_kafka_conf_t* get() { return conf_; }
  // Ownership passes to the caller (rd_kafka_new takes it on success only).
  rd_kafka_conf_t* release() {
    rd_kafka_conf_t* c = conf_;
    conf_ = nullptr;
    return c;
  }

 private:
  rd_kafka_conf_t* conf_;
};

// A new client handle of `type` from `config` (consumed on success).
Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, Config* config);

// "Local: Broker transport failure (_TRANSPORT)".
std::string ErrorText(rd_kafka_resp_err_t err);

}  // namespace sagaflow::kafka
