#include "kafka/kafka_config.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "util/percent_decode.h"
#include "util/redact.h"

namespace sagaflow::kafka {

namespace {

bool ValidTopic(std::string_view t) {
  if (t.empty() || t.size() > 249 || t == "." || t == "..") return false;
  for (char c : t) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

Result<KafkaAddress> ParseKafkaAddress(std::string_view uri) {
  constexpr std::string_view kScheme = "kafka://";
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid Kafka address \"{}\": {} (expected kafka://HOST:PORT[,HOST:PORT...]/TOPIC?group=GROUP)",
                    RedactUri(uri), why));
  };
  if (uri.substr(0, kScheme.size()) != kScheme) return invalid("it does not start with kafka://");
  std::string_view rest = uri.substr(kScheme.size());
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid("no topic");
  KafkaAddress a;
  a.brokers.assign(rest.substr(0, slash));
  a.topic.assign(rest.substr(slash + 1));
  if (a.brokers.empty()) return invalid("no broker");
  if (!ValidTopic(a.topic)) return invalid("the topic must be 1-249 characters of [a-zA-Z0-9._-]");
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) return invalid(fmt::format("parameter \"{}\" has no value", param));
    const std::string_view raw_name = param.substr(0, eq), raw_value = param.substr(eq + 1);
    auto name = PercentDecoded(raw_name, fmt::format("parameter name \"{}\"", raw_name));
    auto value = PercentDecoded(raw_value, IsSecretName(raw_name) ? fmt::format("the value of {}", raw_name)
                                                                  : fmt::format("\"{}\"", raw_value));
    if (!name.ok()) return name.status();
    if (!value.ok()) return value.status();
    if (*name == "group") {
      a.group = *value;
    } else if (*name == "epoch") {
      if (!ValidTopic(*value)) return invalid("the epoch must be 1-249 characters of [a-zA-Z0-9._-]");
      a.epoch = *value;
    } else if (name->find('.') != std::string::npos) {
      a.properties.emplace_back(*name, *value);
    } else {
      return invalid(
          fmt::format("unknown parameter \"{}\" (group, epoch, or a librdkafka property such as "
                      "session.timeout.ms)",
                      *name));
    }
  }
  return a;
}

Result<Properties> LoadPropertiesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(fmt::format("Kafka config {}: {}", path, std::strerror(errno)));
  Properties out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument(fmt::format("Kafka config {} line {}: expected name=value", path, n));
    }
    std::string name = line.substr(first, eq - first);
    name.erase(name.find_last_not_of(" \t") + 1);
    std::string value = line.substr(eq + 1);
    const size_t value_begin = value.find_first_not_of(" \t");  // as .properties files: leading blanks only
    value.erase(0, value_begin == std::string::npos ? value.size() : value_begin);
    if (name.empty()) return Status::InvalidArgument(fmt::format("Kafka config {} line {}: no name", path, n));
    out.emplace_back(std::move(name), std::move(value));
  }
  if (in.bad()) return Status::IoError(fmt::format("Kafka config {}: read error", path));
  return out;
}

Result<std::string> ResolveValue(const std::string& key, const std::string& value) {
  constexpr std::string_view kEnv = "${env:", kFile = "${file:";
  if (value.size() < 3 || value.back() != '}') return value;
  if (value.rfind(kEnv, 0) == 0) {
    const std::string name = value.substr(kEnv.size(), value.size() - kEnv.size() - 1);
    const char* v = std::getenv(name.c_str());
    if (!v) return Status::InvalidArgument(fmt::format("Kafka property {}: variable {} is not set", key, name));
    return std::string(v);
  }
  if (value.rfind(kFile, 0) == 0) {
    const std::string file = value.substr(kFile.size(), value.size() - kFile.size() - 1);
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::IoError(fmt::format("Kafka property {}: {}: {}", key, file, std::strerror(errno)));
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!content.empty() && content.back() == '\n') content.pop_back();
    if (!content.empty() && content.back() == '\r') content.pop_back();
    return content;
  }
  return value;
}

bool IsSecurityError(rd_kafka_resp_err_t err, std::string_view reason) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return true;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
      // A TLS handshake with a plaintext listener ends as a transport error.
      return reason.find("SSL") != std::string_view::npos;
    default:
      return false;
  }
}

Status Config::Set(const std::string& key, const std::string& raw) {
  auto resolved = ResolveValue(key, raw);
  if (!resolved.ok()) return resolved.status();
  const std::string& value = *resolved;
  char err[512];
  if (rd_kafka_conf_set(conf_, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return Status::InvalidArgument(
        fmt::format("Kafka property {}={}: {}", key, IsSecretName(key) ? std::string("***") : value, err));
  }
  return Status::Ok();
}

Status Config::Set(const Properties& properties) {
  for (const auto& [k, v] : properties) SAGAFLOW_RETURN_IF_ERROR(Set(k, v));
  return Status::Ok();
}

Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, Config* config) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, config->get(), err, sizeof err);
  if (!rk) return Status::InvalidArgument(std::string("creating the Kafka client: ") + err);
  config->release();
  return rk;
}

std::string ErrorText(rd_kafka_resp_err_t err) {
  return fmt::format("{} ({})", rd_kafka_err2str(err), rd_kafka_err2name(err));
}

}  // namespace sagaflow::kafka
