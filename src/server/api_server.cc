#include "server/api_server.h"

#include "server/dashboard_assets.h"
#include "server/openapi.h"
#include "server/predict_routes.h"

namespace sagaflow::server {

namespace {

void AddDashboardRoutes(HttpService* service) {
  auto serve = [](const HttpRequest& req, HttpResponse& res) {
    const StaticAsset* asset = FindDashboardAsset(req.path);
    if (!asset) {
      SendError(res, 404, "no dashboard asset " + req.path);
      return;
    }
    res.status = 200;
    // The page is small and names its assets without a version: revalidate.
    res.SetHeader("Cache-Control", req.path == "/" ? "no-cache" : "public, max-age=300");
    res.SetHeader("X-Content-Type-Options", "nosniff");
    res.SetContent(std::string(asset->body), std::string(asset->content_type));
  };
  service->AddRoute({"GET", "/", Access::kPublic, serve});
  service->AddRoute({"GET", "/assets/*", Access::kPublic, serve});
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Create(const ApiServerOptions& options) {
  std::unique_ptr<ApiServer> s(new ApiServer);
  auto model = pipeline::AnalysisModel::Load(options.model_path, options.entities_path);
  if (!model.ok()) return model.status();
  s->model_ = std::move(*model);
  if (!options.store.empty()) {
    auto uri = pipeline::ParseStoreUri(options.store);
    if (!uri.ok()) return uri.status();
    s->pool_ = std::make_shared<AnalyticsPool>(options.store, options.store_login);
  }
  s->http_ = std::make_unique<HttpService>(options.http);
  HttpService& http = *s->http_;

  AddPredictRoutes(*s->model_, &http);
  AddAnalyticsRoutes(s->pool_, &http);
  std::shared_ptr<AnalyticsPool> pool = s->pool_;
  http.AddProbes([pool]() -> Status {
    // The model is loaded (Create() succeeded); the store must answer.
    if (!pool) return Status::Ok();
    auto lease = pool->Acquire();
    if (!lease.ok()) return Status::Unavailable("store " + pool->uri() + ": " + lease.status().message());
    Status st = (*lease)->Ping();
    if (!st.ok()) {
      lease->Discard();
      return Status::Unavailable("store " + pool->uri() + ": " + st.message());
    }
    return Status::Ok();
  });
  const std::string openapi = OpenApiDocument(
      {s->model_->classifier.labels(), !options.http.api_token.empty(), options.http.metrics_require_auth});
  http.AddRoute({"GET", "/openapi.json", Access::kToken,
                 [openapi](const HttpRequest&, HttpResponse& res) { SendJson(res, 200, openapi); }});
  AddDashboardRoutes(&http);
  return s;
}

}  // namespace sagaflow::server
