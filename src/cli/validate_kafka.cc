// `sagaflow validate`: the source checks (validate_checks.h). For kafka://
// a consumer is created with the properties `run` would use, but it never
// subscribes, joins the group, fetches or commits: it asks for the cluster
// id and the topic's metadata (without creating the topic:
// allow.auto.create.topics is off for consumers), then is destroyed.
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "cli/validate_checks.h"
#include "kafka/kafka_config.h"
#include "sources/kafka_source.h"

namespace sagaflow::cli {

namespace {

using State = Check::State;
using Clock = std::chrono::steady_clock;

// What librdkafka's error callback reported while the checks waited.
struct ClientErrors {
  std::string security;  // authentication or TLS: no retry helps
  std::string last;      // the latest other error (a refused connection, a name that does not resolve)
};

// librdkafka's own log lines (connection failures, retried) would repeat
// what the checklist says: debug level only.
void OnLog(const rd_kafka_t* /*rk*/, int /*level*/, const char* facility, const char* line) {
  spdlog::debug("kafka: {}: {}", facility, line);
}

void OnError(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  auto* errors = static_cast<ClientErrors*>(opaque);
  const auto e = static_cast<rd_kafka_resp_err_t>(err);
  std::string text = fmt::format("{}: {}", rd_kafka_err2name(e), reason);
  if (kafka::IsSecurityError(e, reason)) {
    if (errors->security.empty()) errors->security = std::move(text);
  } else {
    errors->last = std::move(text);
  }
}

// Destroys a client handle (a consumer that never subscribed: no group to leave).
struct ClientDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Client = std::unique_ptr<rd_kafka_t, ClientDeleter>;

int Millis(Clock::duration d) {
  return static_cast<int>(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

void CheckTopic(rd_kafka_t* rk, const std::string& topic, Clock::time_point deadline, std::vector<Check>* out) {
  // Every topic's metadata, not the one topic's: a request naming a topic may
  // create it (brokers and the dev broker that auto-create topics).
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, 1, nullptr, &md, std::max(Millis(deadline - Clock::now()), 1000));
  if (err) {
    out->push_back({"kafka topic", State::kFail, fmt::format("{}: metadata: {}", topic, kafka::ErrorText(err))});
    return;
  }
  const rd_kafka_metadata_topic_t* found = nullptr;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic == md->topics[i].topic) found = &md->topics[i];
  }
  if (found == nullptr || found->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    out->push_back({"kafka topic", State::kFail, fmt::format("{} does not exist", topic)});
  } else if (found->err) {
    out->push_back({"kafka topic", State::kFail, fmt::format("{}: {}", topic, kafka::ErrorText(found->err))});
  } else {
    int leaderless = 0;
    for (int i = 0; i < found->partition_cnt; ++i) leaderless += found->partitions[i].leader < 0 ? 1 : 0;
    if (found->partition_cnt == 0 || leaderless > 0) {
      out->push_back({"kafka topic", State::kFail,
                      fmt::format("{}: {} partitions, {} without a leader", topic, found->partition_cnt, leaderless)});
    } else {
      out->push_back({"kafka topic", State::kOk,
                      fmt::format("{}: {} partitions, each with a leader (at most {} useful consumers)", topic,
                                  found->partition_cnt, found->partition_cnt)});
    }
  }
  rd_kafka_metadata_destroy(md);
}

void CheckKafka(const std::string& source, const std::string& kafka_config, std::chrono::milliseconds timeout,
                std::vector<Check>* out) {
  auto fail = [&](const std::string& why) {
    out->push_back({"kafka", State::kFail, why});
    out->push_back({"kafka topic", State::kSkip, "the cluster check failed"});
  };
  auto address = kafka::ParseKafkaAddress(source);
  if (!address.ok()) return fail(address.status().message());
  if (!kafka_config.empty()) {
    auto file = kafka::LoadPropertiesFile(kafka_config);
    if (!file.ok()) return fail(file.status().message());
    address->properties.insert(address->properties.begin(), file->begin(), file->end());  // as run: the address wins
  }
  sources::KafkaSourceOptions options;
  options.address = *address;
  auto properties = sources::ConsumerProperties(options);
  if (!properties.ok()) return fail(properties.status().message());
  kafka::Config conf;
  if (Status st = conf.Set(*properties); !st.ok()) return fail(st.message());
  ClientErrors errors;
  rd_kafka_conf_set_opaque(conf.get(), &errors);
  rd_kafka_conf_set_error_cb(conf.get(), &OnError);
  rd_kafka_conf_set_log_cb(conf.get(), &OnLog);
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, &conf);
  if (!rk.ok()) return fail(rk.status().message());
  Client client(*rk);

  const auto deadline = Clock::now() + timeout;
  std::string cluster;
  while (cluster.empty() && errors.security.empty() && Clock::now() < deadline) {
    if (char* id = rd_kafka_clusterid(client.get(), std::min(Millis(deadline - Clock::now()), 200))) {
      cluster = id;
      rd_kafka_mem_free(client.get(), id);
    }
    rd_kafka_poll(client.get(), 0);  // the error callback
  }
  const std::string& brokers = address->brokers;
  if (!errors.security.empty())
    return fail(fmt::format("{}: authentication or TLS failed: {}", brokers, errors.security));
  if (cluster.empty()) {
    return fail(fmt::format("{}: no answer within {} s{}", brokers, timeout.count() / 1000.0,
                            errors.last.empty() ? "" : " (" + errors.last + ")"));
  }
  out->push_back({"kafka", State::kOk, fmt::format("{}: cluster {}", brokers, cluster)});
  CheckTopic(client.get(), address->topic, deadline, out);
}

}  // namespace

void CheckSource(const std::string& source, const std::string& kafka_config, std::chrono::milliseconds timeout,
                 std::vector<Check>* out) {
  if (source.rfind("kafka://", 0) == 0) return CheckKafka(source, kafka_config, timeout, out);
  if (source == "-" || source == "file:-") {
    out->push_back({"source", State::kSkip, "standard input"});
    return;
  }
  const std::string path = source.rfind("file:", 0) == 0 ? source.substr(5) : source;
  if (path.find("://") != std::string::npos) {
    out->push_back({"source", State::kFail, "unsupported source (file:PATH, -, kafka://BROKERS/TOPIC?group=G)"});
  } else if (!std::filesystem::is_regular_file(path) || ::access(path.c_str(), R_OK) != 0) {
    out->push_back({"source", State::kFail, fmt::format("file:{}: not a readable file", path)});
  } else {
    out->push_back({"source", State::kOk, fmt::format("file:{}: readable", path)});
  }
}

}  // namespace sagaflow::cli
