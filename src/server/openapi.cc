#include "server/openapi.h"

#include <nlohmann/json.hpp>

#include "server/analytics_routes.h"
#include "server/predict_routes.h"

namespace sagaflow::server {

namespace {

using nlohmann::json;

json Ref(const char* schema) { return {{"$ref", std::string("#/components/schemas/") + schema}}; }

json JsonResponse(const char* description, json schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

json ErrorResponse(const char* description) { return JsonResponse(description, Ref("Error")); }

json Param(const char* name, const char* description, json schema, bool required = false, json example = nullptr) {
  json p = {{"name", name},
            {"in", "query"},
            {"description", description},
            {"required", required},
            {"schema", std::move(schema)}};
  if (!example.is_null()) p["example"] = std::move(example);
  return p;
}

json TimeParam(const char* name, const char* what) {
  return Param(name, what, {{"type", "string"}, {"description", "unix seconds or ISO 8601 (UTC when no offset)"}},
               false, "2024-03-01T00:00:00Z");
}

json RowsOf(const char* schema) { return {{"type", "array"}, {"items", Ref(schema)}}; }

json Object(json properties, std::vector<std::string> required) {
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

json NullableString() { return {{"type", "string"}, {"nullable", true}}; }

// The responses every protected route may give besides its own.
void AddCommon(json* responses, bool token) {
  if (token) (*responses)["401"] = ErrorResponse("missing or wrong bearer token (only when the server has one)");
  (*responses)["405"] = ErrorResponse("method not allowed (the Allow header lists the allowed ones)");
  (*responses)["500"] = ErrorResponse("internal error");
}

json Get(const char* summary, json parameters, json responses, bool token = true) {
  AddCommon(&responses, token);
  json op = {{"summary", summary}, {"parameters", std::move(parameters)}, {"responses", std::move(responses)}};
  if (!token) op["security"] = json::array();
  return {{"get", std::move(op)}};
}

json Post(const char* summary, json body_schema, json example, json responses) {
  responses["400"] = ErrorResponse("malformed JSON, invalid UTF-8, or a missing or mistyped field");
  responses["413"] = ErrorResponse("body larger than the limit (1 MiB by default)");
  responses["415"] = ErrorResponse("Content-Type is not application/json");
  AddCommon(&responses, true);
  return {
      {"post",
       {{"summary", summary},
        {"requestBody",
         {{"required", true},
          {"content", {{"application/json", {{"schema", std::move(body_schema)}, {"example", std::move(example)}}}}}}},
        {"responses", std::move(responses)}}}};
}

}  // namespace

std::string OpenApiDocument(const OpenApiInfo& info) {
  json labels = info.labels;
  json scores = {{"type", "object"},
                 {"additionalProperties", {{"type", "number"}}},
                 {"description", "decision score per label (scikit-learn's decision_function)"}};
  json schemas = {
      {"Error", Object({{"error", Object({{"code", {{"type", "integer"}}}, {"message", {{"type", "string"}}}},
                                         {"code", "message"})}},
                       {"error"})},
      {"Prediction",
       Object({{"label", {{"type", "string"}, {"nullable", true}, {"enum", labels}}},
               {"scores", scores},
               {"empty", {{"type", "boolean"}, {"description", "true (and label null) for a blank text"}}}},
              {"label"})},
      {"Predictions", Object({{"predictions", {{"type", "array"}, {"items", Ref("Prediction")}}}}, {"predictions"})},
      {"Analysis", Object({{"label", {{"type", "string"}, {"nullable", true}, {"enum", labels}}},
                           {"scores", scores},
                           {"empty", {{"type", "boolean"}}},
                           {"mentions",
                            {{"type", "object"},
                             {"additionalProperties", {{"type", "integer"}}},
                             {"description", "mentions per canonical entity name, most mentioned first"}}}},
                          {"label", "mentions"})},
      {"TopEntity",
       Object(
           {{"entity", {{"type", "string"}}}, {"mentions", {{"type", "integer"}}}, {"readers", {{"type", "integer"}}}},
           {"entity", "mentions", "readers"})},
      {"Saga",
       Object({{"saga", NullableString()}, {"events", {{"type", "integer"}}}, {"readers", {{"type", "integer"}}}},
              {"saga", "events", "readers"})},
      {"TrendPoint", Object({{"time", {{"type", "integer"}}},
                             {"bucket", {{"type", "string"}}},
                             {"mentions", {{"type", "integer"}}},
                             {"readers", {{"type", "integer"}}}},
                            {"time", "bucket", "mentions", "readers"})},
      {"SagaTrendPoint", Object({{"saga", NullableString()},
                                 {"time", {{"type", "integer"}}},
                                 {"bucket", {{"type", "string"}}},
                                 {"events", {{"type", "integer"}}},
                                 {"readers", {{"type", "integer"}}}},
                                {"saga", "time", "bucket", "events", "readers"})},
      {"RejectedReason",
       Object({{"reason", {{"type", "string"}}}, {"events", {{"type", "integer"}}}}, {"reason", "events"})},
      {"DeadLetter", Object({{"source", {{"type", "string"}}},
                             {"line", {{"type", "integer"}}},
                             {"position", {{"type", "integer"}}},
                             {"reason", {{"type", "string"}}},
                             {"detail", {{"type", "string"}}},
                             {"excerpt", {{"type", "string"}}}},
                            {"source", "line", "position", "reason", "detail", "excerpt"})},
      {"Status", Object({{"status", {{"type", "string"}}}}, {"status"})},
  };

  const json store_errors = {
      {"400", ErrorResponse("invalid parameter: unknown name, bad time, number or enum, unknown saga")},
      {"503", ErrorResponse("no store configured, or the store cannot be reached")}};
  auto with = [&](json responses) {
    for (auto& [k, v] : store_errors.items()) responses[k] = v;
    return responses;
  };
  const json bucket =
      Param("bucket", "time bucket (UTC)", {{"type", "string"}, {"enum", {"hour", "day"}}, {"default", "day"}});
  json example_text = {{"text", "Jon Snow rode north to Winterfell with Arya."}};

  json paths;
  paths["/predict"] =
      Post("Classify one text (the prototype's contract)", Object({{"text", {{"type", "string"}}}}, {"text"}),
           example_text, {{"200", JsonResponse("the label and the scores", Ref("Prediction"))}});
  paths["/v1/predict"] =
      Post("Classify one text, or a batch",
           {{"type", "object"},
            {"properties",
             {{"text", {{"type", "string"}}},
              {"texts", {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", kMaxBatchTexts}}}}},
            {"description", "exactly one of text and texts"}},
           example_text,
           {{"200", JsonResponse("a Prediction for text, Predictions (in order) for texts",
                                 {{"oneOf", {Ref("Prediction"), Ref("Predictions")}}})}});
  paths["/v1/predict"]["post"]["responses"]["413"] =
      ErrorResponse("body larger than the limit, or more texts than maxItems");
  paths["/v1/analyze"] =
      Post("Label, scores and entity mentions of one text", Object({{"text", {{"type", "string"}}}}, {"text"}),
           example_text, {{"200", JsonResponse("the analysis", Ref("Analysis"))}});
  paths["/v1/top-entities"] = Get(
      "Most mentioned entities of a saga (the prototype's analytics.sql)",
      {Param("saga", "saga name", {{"type", "string"}}, true, info.labels.empty() ? json("got") : json(info.labels[0])),
       TimeParam("from", "start of the window (inclusive)"), TimeParam("to", "end of the window (inclusive)"),
       Param("limit", "rows (0 = all)",
             {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxTopEntitiesLimit}, {"default", 8}}),
       Param("by", "order", {{"type", "string"}, {"enum", {"mentions", "readers"}}, {"default", "mentions"}})},
      with({{"200", JsonResponse("rows, most mentioned (or read) first", RowsOf("TopEntity"))}}));
  paths["/v1/sagas"] =
      Get("Events and readers per saga; empty texts as the row with saga null",
          {TimeParam("from", "start of the window (inclusive)"), TimeParam("to", "end of the window (inclusive)")},
          with({{"200", JsonResponse("one row per known saga, then empty texts", RowsOf("Saga"))}}));
  json trend = with({{"200", JsonResponse("buckets with mentions, oldest first", RowsOf("TrendPoint"))}});
  trend["404"] = ErrorResponse("unknown entity (the message suggests similar names)");
  paths["/v1/trend"] =
      Get("Mentions and readers of an entity over time",
          {Param("entity", "canonical entity name", {{"type", "string"}}, true, "Jon Snow"),
           Param("saga", "only events of this saga", {{"type", "string"}}), bucket,
           TimeParam("from", "start of the window (inclusive)"), TimeParam("to", "end of the window (inclusive)")},
          trend);
  paths["/v1/saga-trend"] = Get(
      "Events and readers per saga over time",
      {bucket, TimeParam("from", "start of the window (inclusive)"), TimeParam("to", "end of the window (inclusive)")},
      with({{"200", JsonResponse("by bucket, then saga (empty texts, saga null, last)", RowsOf("SagaTrendPoint"))}}));
  paths["/v1/rejected"] =
      Get("Dead-lettered records per reason, or the newest dead letters",
          {Param("list", "list the newest dead letters instead", {{"type", "string"}, {"enum", {"true", "false"}}}),
           Param("limit", "with list=true: rows",
                 {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxDeadLettersLimit}, {"default", 20}})},
          with({{"200", JsonResponse("RejectedReason rows, or DeadLetter rows with list=true",
                                     {{"oneOf", {RowsOf("RejectedReason"), RowsOf("DeadLetter")}}})}}));
  paths["/healthz"] = Get("Liveness: 200 while the process serves", json::array(),
                          {{"200", JsonResponse("alive", Ref("Status"))}}, false);
  paths["/readyz"] = Get("Readiness: model loaded and store reachable", json::array(),
                         {{"200", JsonResponse("ready", Ref("Status"))},
                          {"503", ErrorResponse("not ready (and why, to callers with the token)")}},
                         false);
  paths["/metrics"] = Get(
      "Prometheus metrics (text format 0.0.4)", json::array(),
      {{"200", {{"description", "the exposition"}, {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}}},
      info.metrics_auth);
  paths["/openapi.json"] =
      Get("This document", json::array(), {{"200", JsonResponse("OpenAPI 3.0", {{"type", "object"}})}});
  paths["/"] = Get(
      "The dashboard page", json::array(),
      {{"200", {{"description", "HTML"}, {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}}}}, false);
  paths["/assets/{file}"] = Get(
      "The dashboard's scripts and styles",
      {{{"name", "file"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}, {"example", "app.js"}}},
      {{"200", {{"description", "the file"}}}, {"404", ErrorResponse("no such asset")}}, false);

  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "sagaflow"},
        {"version", SAGAFLOW_VERSION},
        {"description", "Classify saga texts, count entity mentions, and query the star schema (docs/http-api.md)."}}},
      {"paths", std::move(paths)},
      {"components", {{"schemas", std::move(schemas)}}}};
  if (info.auth) {
    doc["components"]["securitySchemes"] = {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}};
    doc["security"] = json::array({{{"bearer", json::array()}}});
  }
  return doc.dump(2) + "\n";
}

}  // namespace sagaflow::server
