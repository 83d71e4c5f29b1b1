#include "kafka/kafka_config.h"

#include <fmt/format.h>

#include <cctype>

#include "util/redact.h"

namespace sagaflow::kafka {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `what` names `s` in the error (a secret value is not echoed).
Result<std::string> PercentDecode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return Status::InvalidArgument(fmt::format("bad percent escape in {}", what));
    }
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument(fmt::format("bad percent escape in {}", what));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

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
    auto name = PercentDecode(raw_name, fmt::format("parameter name \"{}\"", raw_name));
    auto value = PercentDecode(raw_value, IsSecretName(raw_name) ? fmt::format("the value of {}", raw_name)
                                                                 : fmt::format("\"{}\"", raw_value));
    if (!name.ok()) return name.status();
    if (!value.ok()) return value.status();
    if (*name == "group") {
      a.group = *value;
    } else if (name->find('.') != std::string::npos) {
      a.properties.emplace_back(*name, *value);
    } else {
      return invalid(
          fmt::format("unknown parameter \"{}\" (group, or a librdkafka property such as "
                      "session.timeout.ms)",
                      *name));
    }
  }
  return a;
}

Status Config::Set(const std::string& key, const std::string& value) {
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
