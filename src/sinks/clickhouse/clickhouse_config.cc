#include "sinks/clickhouse/clickhouse_config.h"

#include <fmt/format.h>

#include <charconv>

#include "sinks/clickhouse/sql.h"
#include "util/percent_decode.h"

namespace sagaflow::sinks::clickhouse {

namespace {

constexpr std::string_view kScheme = "clickhouse://";
constexpr std::string_view kSecureScheme = "clickhouses://";

// `uri` without its userinfo (which may hold a password), for messages.
std::string Redacted(std::string_view uri) {
  const size_t scheme = uri.find("://");
  const size_t at = uri.find('@');
  if (at == std::string_view::npos || scheme == std::string_view::npos || at < scheme) return std::string(uri);
  return fmt::format("{}***@{}", uri.substr(0, scheme + 3), uri.substr(at + 1));
}

template <typename T>
Status ParseNumber(std::string_view value, std::string_view name, T min, T max, T* out) {
  T v{};
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || value.empty() || v < min || v > max) {
    return Status::InvalidArgument(
        fmt::format("store URI option {}={}: expected an integer in [{}, {}]", name, value, min, max));
  }
  *out = v;
  return Status::Ok();
}

Status ParseOption(std::string_view name, std::string_view value, ClickHouseConfig* c) {
  int64_t n = 0;
  auto ms = [&](std::chrono::milliseconds* out, int64_t min) -> Status {
    SAGAFLOW_RETURN_IF_ERROR(ParseNumber<int64_t>(value, name, min, 86'400'000, &n));
    *out = std::chrono::milliseconds(n);
    return Status::Ok();
  };
  if (name == "secure") {
    if (value != "0" && value != "1") return Status::InvalidArgument("store URI option secure: expected 0 or 1");
    c->secure = value == "1";
    return Status::Ok();
  }
  for (auto [option, field] : {std::pair{"ca_file", &c->ca_file}, std::pair{"cert_file", &c->cert_file},
                               std::pair{"key_file", &c->key_file}}) {
    if (name != option) continue;
    auto path = PercentDecoded(value, fmt::format("the {} of the store URI", option));
    if (!path.ok()) return path.status();
    if (path->empty()) return Status::InvalidArgument(fmt::format("store URI option {}: empty path", option));
    *field = *path;
    return Status::Ok();
  }
  if (name == "cluster") {
    if (!IsPlainIdentifier(value)) {
      return Status::InvalidArgument("store URI option cluster: expected a plain name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    c->cluster = std::string(value);
    return Status::Ok();
  }
  if (name == "insert_quorum") return ParseNumber<int>(value, name, 1, 64, &c->insert_quorum);
  if (name == "connect_timeout_ms") return ms(&c->connect_timeout, 1);
  if (name == "timeout_ms") return ms(&c->timeout, 1);
  if (name == "retry_initial_ms") return ms(&c->retry.initial, 1);
  if (name == "retry_max_ms") return ms(&c->retry.max, 1);
  if (name == "retry_give_up_s") {
    SAGAFLOW_RETURN_IF_ERROR(ParseNumber<int64_t>(value, name, 0, int64_t{365} * 86400, &n));
    c->retry.give_up_after = std::chrono::seconds(n);
    return Status::Ok();
  }
  return Status::InvalidArgument(fmt::format(
      "unknown store URI option \"{}\" (known: secure, ca_file, cert_file, key_file, cluster, insert_quorum, "
      "connect_timeout_ms, timeout_ms, retry_initial_ms, retry_max_ms, retry_give_up_s)",
      name));
}

}  // namespace

ClickHouseConfig::Node ClickHouseConfig::NodeAt(size_t i) const {
  return i == 0 ? Node{host, port} : other_nodes.at(i - 1);
}

std::string ClickHouseConfig::BaseUrl(size_t node) const {
  const Node n = NodeAt(node);
  return fmt::format("{}://{}:{}/", secure ? "https" : "http", n.host, n.port);
}

std::string ClickHouseConfig::Describe() const {
  std::string hosts = fmt::format("{}:{}", host, port);
  for (const Node& n : other_nodes) hosts += fmt::format(",{}:{}", n.host, n.port);
  return fmt::format("{}{}@{}/{}{}", secure ? kSecureScheme : kScheme, user, hosts, database,
                     cluster.empty() ? "" : "?cluster=" + cluster);
}

Result<ClickHouseConfig> ParseClickHouseUri(std::string_view uri, const Credentials& credentials) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid store \"{}\": {} (expected clickhouse[s]://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE)",
                    Redacted(uri), why));
  };
  ClickHouseConfig c;
  std::string_view rest;
  if (uri.substr(0, kScheme.size()) == kScheme) {
    rest = uri.substr(kScheme.size());
  } else if (uri.substr(0, kSecureScheme.size()) == kSecureScheme) {
    rest = uri.substr(kSecureScheme.size());
    c.secure = true;
  } else {
    return bad("not a clickhouse:// or clickhouses:// URI");
  }
  std::string_view options;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    options = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no database");
  std::string_view authority = rest.substr(0, slash);
  std::string_view database = rest.substr(slash + 1);
  if (!database.empty() && database.back() == '/') database.remove_suffix(1);

  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = PercentDecoded(userinfo.substr(0, colon), "the user of the store URI");
    if (!user.ok()) return user.status();
    if (!user->empty()) c.user = *user;
    if (colon != std::string_view::npos) {
      auto password = PercentDecoded(userinfo.substr(colon + 1), "the password of the store URI");
      if (!password.ok()) return password.status();
      c.password = *password;
    }
  }
  if (!credentials.user.empty()) c.user = credentials.user;
  if (!credentials.password.empty()) c.password = credentials.password;

  // HOST[:PORT] or [IPv6][:PORT]; the port stays 0 when absent (the
  // scheme's default is known after the options).
  auto parse_node = [&](std::string_view text, ClickHouseConfig::Node* node) -> Status {
    std::string_view port;
    if (!text.empty() && text.front() == '[') {  // [IPv6]:port
      const size_t close = text.find(']');
      if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
      node->host = std::string(text.substr(0, close + 1));
      std::string_view after = text.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') return bad("junk after the [IPv6] host");
        port = after.substr(1);
      }
    } else {
      const size_t colon = text.find(':');
      node->host = std::string(text.substr(0, colon));
      if (colon != std::string_view::npos) port = text.substr(colon + 1);
    }
    if (node->host.empty()) return bad("no host");
    for (char ch : node->host) {
      const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                      ch == '-' || ch == '_' || ch == ':' || ch == '[' || ch == ']';
      if (!ok) return bad("invalid character in the host");
    }
    node->port = 0;
    if (!port.empty() && !ParseNumber<int>(port, "port", 1, 65535, &node->port).ok()) return bad("invalid port");
    return Status::Ok();
  };
  std::vector<ClickHouseConfig::Node> nodes;
  for (std::string_view rest_of = authority;;) {
    const size_t comma = rest_of.find(',');
    SAGAFLOW_RETURN_IF_ERROR(parse_node(rest_of.substr(0, comma), &nodes.emplace_back()));
    if (comma == std::string_view::npos) break;
    rest_of = rest_of.substr(comma + 1);
  }
  if (!IsPlainIdentifier(database)) {
    return bad("the database must be a plain name ([A-Za-z_][A-Za-z0-9_]*, at most 64 bytes)");
  }
  c.database = std::string(database);

  while (!options.empty()) {
    const size_t amp = options.find('&');
    std::string_view pair = options.substr(0, amp);
    options = amp == std::string_view::npos ? std::string_view() : options.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return bad(fmt::format("option \"{}\" has no value", pair));
    SAGAFLOW_RETURN_IF_ERROR(ParseOption(pair.substr(0, eq), pair.substr(eq + 1), &c));
  }
  if (c.retry.max < c.retry.initial) c.retry.max = c.retry.initial;
  for (auto& node : nodes) {
    if (node.port == 0) node.port = c.secure ? 8443 : 8123;
  }
  c.host = nodes.front().host;
  c.port = nodes.front().port;
  c.other_nodes.assign(nodes.begin() + 1, nodes.end());
  if (!c.secure && !(c.ca_file.empty() && c.cert_file.empty() && c.key_file.empty())) {
    return bad("ca_file, cert_file and key_file need HTTPS (clickhouses:// or secure=1)");
  }
  if (c.cert_file.empty() != c.key_file.empty()) return bad("cert_file and key_file go together");
  if (c.insert_quorum != 0 && c.cluster.empty())
    return bad("insert_quorum needs cluster=NAME (one server has no replicas)");
  if (!c.other_nodes.empty() && c.cluster.empty()) {
    return bad("several hosts need cluster=NAME (a single server's store lives on that server alone)");
  }
  return c;
}

}  // namespace sagaflow::sinks::clickhouse
