// The checks of `sagaflow validate`: each reads a setting's target (a file,
// the store, the Kafka cluster) without consuming, writing or creating
// anything, and says in one line what it found.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "pipeline/store_uri.h"

namespace sagaflow::cli {

struct Check {
  enum class State { kOk, kFail, kSkip };
  std::string name;  // "model", "store schema", "kafka topic", ...
  State state = State::kOk;
  std::string detail;  // what was found, or why it failed or was skipped; never a secret
};

// The store at `uri` (pipeline/store_uri.h): reachable, its schema version
// against this binary's, and whether `run` may write there (SQLite: the
// file or its directory is writable; ClickHouse: the login's profile is not
// readonly and allows DDL when migrations are due). Appends "store",
// "store schema" and "store privileges".
void CheckStore(const std::string& uri, const pipeline::StoreCredentials& login, std::chrono::milliseconds timeout,
                std::vector<Check>* out);

// The source `run` would read: a file's readability, or for kafka:// the
// cluster (bootstrap reachable, authentication), then the topic (exists,
// partitions, each with a leader), with a consumer that never subscribes.
// `kafka_config` is --kafka-config's path (may be empty). Appends "source"
// or "kafka" and "kafka topic".
void CheckSource(const std::string& source, const std::string& kafka_config, std::chrono::milliseconds timeout,
                 std::vector<Check>* out);

}  // namespace sagaflow::cli
