#include "pipeline/store_uri.h"

#include "sinks/clickhouse/clickhouse_sink.h"
#include "sinks/sqlite/sqlite_sink.h"
#include "util/redact.h"

namespace sagaflow::pipeline {

Result<StoreUri> ParseStoreUri(const std::string& uri) {
  auto colon = uri.find(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("invalid store \"" + RedactUri(uri) + "\": expected sqlite:PATH");
  }
  StoreUri out{uri.substr(0, colon), uri.substr(colon + 1)};
  if (out.scheme == "sqlite") {
    if (out.path.rfind("//", 0) == 0) out.path.erase(0, 2);
    if (out.path.empty()) return Status::InvalidArgument("invalid store \"" + uri + "\": empty path");
    return out;
  }
  if (out.scheme == "clickhouses") out.scheme = "clickhouse";  // HTTPS: the ClickHouse store parses it
  if (out.scheme == "clickhouse") return out;
  return Status::InvalidArgument("unsupported store \"" + RedactUri(uri) +
                                 "\" (supported: sqlite:PATH, clickhouse://HOST:PORT/DB, clickhouses://HOST:PORT/DB)");
}

PipelineOptions DefaultPipelineOptions(const StoreUri& store) {
  PipelineOptions o;
  if (store.scheme == "clickhouse") {
    o.batch_records = 16384;
    o.batch_bytes = 32 << 20;
    o.linger = std::chrono::milliseconds(1000);
  }
  return o;
}

Result<std::unique_ptr<Sink>> OpenSink(const std::string& uri, const StoreCredentials& credentials) {
  auto parsed = ParseStoreUri(uri);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme == "clickhouse") {
    auto config = sinks::clickhouse::ParseClickHouseUri(uri, {credentials.user, credentials.password});
    if (!config.ok()) return config.status();
    auto sink = sinks::clickhouse::ClickHouseSink::Open(*config);
    if (!sink.ok()) return sink.status();
    return std::unique_ptr<Sink>(std::move(*sink));
  }
  auto sink = sinks::sqlite::SqliteSink::Open(parsed->path);
  if (!sink.ok()) return sink.status();
  return std::unique_ptr<Sink>(std::move(*sink));
}

}  // namespace sagaflow::pipeline
