// The analytics of the store at a URI ("sqlite:PATH", "clickhouse://...";
// see pipeline/store_uri.h).
#pragma once

#include <memory>
#include <string>

#include "pipeline/store_uri.h"
#include "query/analytics.h"

namespace sagaflow::query {

Result<std::unique_ptr<Analytics>> OpenAnalytics(const std::string& uri,
                                                 const pipeline::StoreCredentials& credentials = {});

}  // namespace sagaflow::query
