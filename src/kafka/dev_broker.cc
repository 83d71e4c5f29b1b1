#include "kafka/dev_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstring>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace sagaflow::kafka {

struct DevBroker::Handles {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~Handles() {
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
    if (rk) rd_kafka_destroy(rk);
  }
};

namespace {

Result<int16_t> ApiKey(const std::string& name) {
  static const std::unordered_map<std::string, int16_t> kKeys = {
      {"Produce", 0},      {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
      {"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
      {"Heartbeat", 12},   {"LeaveGroup", 13}, {"SyncGroup", 14},       {"ApiVersions", 18}};
  if (auto it = kKeys.find(name); it != kKeys.end()) return it->second;
  char* end = nullptr;
  long v = std::strtol(name.c_str(), &end, 10);
  if (!name.empty() && *end == '\0' && v >= 0 && v < 100) return static_cast<int16_t>(v);
  return Status::InvalidArgument("unknown Kafka API '" + name + "'");
}

Result<rd_kafka_resp_err_t> ErrorCode(const std::string& name) {
  const rd_kafka_err_desc* descs;
  size_t n;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; ++i) {
    if (descs[i].name && name == descs[i].name) return descs[i].code;
  }
  return Status::InvalidArgument("unknown Kafka error '" + name + "'");
}

}  // namespace

Result<std::unique_ptr<DevBroker>> DevBroker::Start(const DevBrokerOptions& options) {
  if (options.brokers < 1 || options.partitions < 1) {
    return Status::InvalidArgument("brokers and partitions must be at least 1");
  }
  std::unique_ptr<DevBroker> b(new DevBroker());
  b->h_ = std::make_unique<Handles>();
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster; keep it quiet.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  b->h_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!b->h_->rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Internal(std::string("creating the mock cluster's handle: ") + err);
  }
  b->h_->cluster = rd_kafka_mock_cluster_new(b->h_->rk, options.brokers);
  if (!b->h_->cluster) return Status::Internal("rd_kafka_mock_cluster_new failed");
  if (auto e = rd_kafka_mock_topic_create(b->h_->cluster, options.topic.c_str(), options.partitions, 1)) {
    return Status::Internal(std::string("creating topic: ") + rd_kafka_err2str(e));
  }
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->h_->cluster);
  return b;
}

DevBroker::~DevBroker() = default;

Status DevBroker::Control(const std::string& command) {
  std::istringstream in(command);
  std::string verb;
  in >> verb;
  auto* c = h_->cluster;
  if (verb == "fail") {
    std::string api, error;
    size_t count = 0;
    if (!(in >> api >> count >> error) || count == 0) {
      return Status::InvalidArgument("usage: fail <Api> <count> <Error>");
    }
    auto key = ApiKey(api);
    if (!key.ok()) return key.status();
    auto code = ErrorCode(error);
    if (!code.ok()) return code.status();
    std::vector<rd_kafka_resp_err_t> errors(count, *code);
    rd_kafka_mock_push_request_errors_array(c, *key, count, errors.data());
    return Status::Ok();
  }
  if (verb == "clear") {
    std::string api;
    if (!(in >> api)) return Status::InvalidArgument("usage: clear <Api>");
    auto key = ApiKey(api);
    if (!key.ok()) return key.status();
    rd_kafka_mock_clear_request_errors(c, *key);
    return Status::Ok();
  }
  if (verb == "down" || verb == "up" || verb == "rtt") {
    int32_t broker = 0;
    if (!(in >> broker)) return Status::InvalidArgument("usage: " + verb + " <broker|-1>");
    rd_kafka_resp_err_t e;
    if (verb == "rtt") {
      int ms = 0;
      if (!(in >> ms) || ms < 0) return Status::InvalidArgument("usage: rtt <broker|-1> <ms>");
      e = rd_kafka_mock_broker_set_rtt(c, broker, ms);
    } else {
      e = verb == "down" ? rd_kafka_mock_broker_set_down(c, broker) : rd_kafka_mock_broker_set_up(c, broker);
    }
    if (e) return Status::InvalidArgument(verb + ": " + rd_kafka_err2str(e));
    return Status::Ok();
  }
  return Status::InvalidArgument("unknown command '" + verb + "' (fail, clear, down, up, rtt)");
}

}  // namespace sagaflow::kafka
