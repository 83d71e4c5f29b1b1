// The OpenAPI 3.0 document of `serve` (GET /openapi.json): every route, its
// parameters, request body, and every status code it answers with, with the
// top-level shape of each JSON body. openapi_test.cc walks it against a
// running server, so it cannot drift from what the server does.
#pragma once

#include <string>
#include <vector>

namespace sagaflow::server {

struct OpenApiInfo {
  std::vector<std::string> labels;  // the model's labels (the sagas)
  bool auth = false;                // an API token is configured
  bool metrics_auth = false;        // /metrics requires it
};

std::string OpenApiDocument(const OpenApiInfo& info);

}  // namespace sagaflow::server
