// Store addresses: "sqlite:PATH" (PATH relative or absolute; "sqlite://PATH"
// is accepted too) and "clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DB[?...]"
// (docs/clickhouse.md). Schemes plug in here and in OpenSink /
// query::OpenAnalytics.
#pragma once

#include <memory>
#include <string>

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

// A sink for the store at `uri`.
Result<std::unique_ptr<Sink>> OpenSink(const std::string& uri, const StoreCredentials& credentials = {});

}  // namespace sagaflow::pipeline
