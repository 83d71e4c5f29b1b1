// Store addresses: "sqlite:PATH" (PATH relative or absolute; "sqlite://PATH"
// is accepted too) and "clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DB[?...]"
// (docs/clickhouse.md). Schemes plug in here and in OpenSink /
// query::OpenAnalytics.
#pragma once

#include <memory>
#include <string>

#include "pipeline/pipeline.h"
#include "pipeline/sink.h"
#include "util/status.h"

namespace sagaflow::pipeline {

struct StoreUri {
  std::string scheme;  // "sqlite" or "clickhouse"
  std::string path;    // clickhouse: "//HOST:PORT/DB..." (parsed by the ClickHouse store)
};

// A login for stores that have them (clickhouse://): set fields override the
// URI's userinfo (--store-user / --store-password).
struct StoreCredentials {
  std::string user;
  std::string password;
};

Result<StoreUri> ParseStoreUri(const std::string& uri);

// Batching that suits the store: SQLite commits small transactions cheaply;
// ClickHouse wants few, large inserts (each insert makes a part on disk that
// merges must absorb), so its batches are bigger and wait longer to fill.
// Only batch_records, batch_bytes and linger differ from PipelineOptions().
PipelineOptions DefaultPipelineOptions(const StoreUri& store);

// A sink for the store at `uri`.
Result<std::unique_ptr<Sink>> OpenSink(const std::string& uri, const StoreCredentials& credentials = {});

}  // namespace sagaflow::pipeline
