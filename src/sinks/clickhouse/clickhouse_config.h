// Where and how to reach a ClickHouse store: parsed from a store URI
//
//   clickhouse://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]...]/DATABASE[?OPTION=VALUE&...]
//   clickhouses://...  (HTTPS, as clickhouse://...?secure=1)
//
// (HTTP interface, port 8123 by default, 8443 with HTTPS; userinfo and
// option values are percent-decoded; several hosts: nodes of one cluster,
// tried in turn). Options: secure=1 (HTTPS, the server
// certificate verified against the system store or ca_file), ca_file,
// cert_file and key_file (a client certificate, for mutual TLS),
// connect_timeout_ms, timeout_ms (per request), retry_initial_ms,
// retry_max_ms (backoff cap), retry_give_up_s (0 = retry retriable errors
// for ever, the default for writes); cluster (a replicated and sharded store
// on that cluster of the server's remote_servers) and insert_quorum
// (replicas an insert must reach, default a majority of each shard's).
// docs/clickhouse.md.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sagaflow::sinks::clickhouse {

// Bounded exponential backoff with jitter for retriable errors.
struct RetryPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{10000};   // cap of one wait
  std::chrono::seconds give_up_after{0};  // 0 = never give up
};

// Login given outside the URI (flags, environment); empty fields fall back
// to the URI's userinfo, then to user "default" with no password.
struct Credentials {
  std::string user;
  std::string password;
};

struct ClickHouseConfig {
  bool secure = false;
  std::string ca_file;    // PEM CAs that verify the server (default: the system store)
  std::string cert_file;  // PEM client certificate (mutual TLS), with key_file
  std::string key_file;
  struct Node {
    std::string host;
    int port = 8123;
  };
  std::string host;
  int port = 8123;  // 8443 with HTTPS unless the URI names one
  // Further nodes of the cluster (cluster stores only): a client whose node
  // fails retriably sends its next request to the next node, in turn.
  std::vector<Node> other_nodes;
  std::string database;  // a plain identifier (sql.h IsPlainIdentifier)
  std::string user = "default";
  std::string password;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{60000};
  RetryPolicy retry;
  // Empty: one server, plain tables. Otherwise the cluster (remote_servers)
  // whose replicated local tables sit behind Distributed tables (cluster.h).
  std::string cluster;
  // Replicas of a shard that must hold an insert before it is acknowledged
  // (ClickHouse's insert_quorum); 0: a majority of the smallest shard's.
  int insert_quorum = 0;
  // Every request carries readonly=1, so the server refuses any write or DDL
  // whatever the SQL says (set by the analytics, never by the URI: least
  // privilege even with the writer's login or a quoting bug).
  bool read_only = false;

  size_t NodeCount() const { return 1 + other_nodes.size(); }
  Node NodeAt(size_t i) const;  // 0: host and port
  // "http://HOST:PORT/" of node `node` (brackets kept for IPv6 literals).
  std::string BaseUrl(size_t node = 0) const;
  // The store without its password, for logs: "clickhouse://user@host:port/db"
  // ("clickhouses://..." with HTTPS).
  std::string Describe() const;
};

// kInvalidArgument for anything malformed or unknown, naming it.
Result<ClickHouseConfig> ParseClickHouseUri(std::string_view uri, const Credentials& credentials = {});

}  // namespace sagaflow::sinks::clickhouse
