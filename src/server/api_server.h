// ApiServer: everything `sagaflow serve` serves, assembled on one
// HttpService: the text routes (predict_routes.h), the analytics routes
// (analytics_routes.h), /healthz, /readyz, /metrics, /openapi.json and the
// dashboard (/, /assets/*). The CLI and the tests build it the same way.
#pragma once

#include <memory>
#include <string>

#include "pipeline/analysis_model.h"
#include "pipeline/store_uri.h"
#include "server/analytics_routes.h"
#include "server/http_service.h"

namespace sagaflow::server {

struct ApiServerOptions {
  HttpServiceOptions http;
  std::string model_path;     // model JSON (required)
  std::string entities_path;  // entity dictionary (required)
  std::string store;          // "" = no analytics (they answer 503)
  pipeline::StoreCredentials store_login;
};

class ApiServer {
 public:
  // Loads the model and dictionary (errors name the file) and checks the
  // store address; the store itself is opened lazily, per worker, so the
  // server starts while the store is down (/readyz says so).
  static Result<std::unique_ptr<ApiServer>> Create(const ApiServerOptions& options);

  HttpService& http() { return *http_; }
  const pipeline::AnalysisModel& model() const { return *model_; }

 private:
  ApiServer() = default;
  std::unique_ptr<pipeline::AnalysisModel> model_;
  std::shared_ptr<AnalyticsPool> pool_;
  std::unique_ptr<HttpService> http_;  // last: stopped before the rest goes
};

}  // namespace sagaflow::server
