#include "query/open_analytics.h"

#include "pipeline/store_uri.h"
#include "sinks/clickhouse/clickhouse_analytics.h"
#include "sinks/sqlite/sqlite_analytics.h"

namespace sagaflow::query {

Result<std::unique_ptr<Analytics>> OpenAnalytics(const std::string& uri,
                                                 const pipeline::StoreCredentials& credentials) {
  auto parsed = pipeline::ParseStoreUri(uri);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme == "clickhouse") {
    auto config = sinks::clickhouse::ParseClickHouseUri(uri, {credentials.user, credentials.password});
    if (!config.ok()) return config.status();
    auto a = sinks::clickhouse::ClickHouseAnalytics::Open(*config);
    if (!a.ok()) return a.status();
    return std::unique_ptr<Analytics>(std::move(*a));
  }
  auto a = sinks::sqlite::SqliteAnalytics::Open(parsed->path);
  if (!a.ok()) return a.status();
  return std::unique_ptr<Analytics>(std::move(*a));
}

}  // namespace sagaflow::query
