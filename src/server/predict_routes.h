// The text routes of `serve`:
//   POST /predict     {"text": "..."} -> {"label": "got", "scores": {...}}: the
//                     prototype's contract (its clients read "label"); a blank
//                     text -> {"label": null, "empty": true}
//   POST /v1/predict  {"text": "..."} as /predict, or {"texts": [...]} (at most
//                     kMaxBatchTexts) -> {"predictions": [...]} in order
//   POST /v1/analyze  {"text": "..."} -> label, scores and entity mentions
//                     {"Jon Snow": 3, ...} counted as the pipeline counts them
//                     (pipeline::AnalyzeText: saga-scoped entities only in
//                     their saga)
// Bodies are parsed with simdjson (one parser per worker thread); invalid
// JSON, invalid UTF-8 and missing or mistyped fields are 400s that say what
// was wrong.
#pragma once

#include <cstddef>

#include "pipeline/analysis_model.h"
#include "server/http_service.h"

namespace sagaflow::server {

inline constexpr size_t kMaxBatchTexts = 256;

// `model` must outlive the service.
void AddPredictRoutes(const pipeline::AnalysisModel& model, HttpService* service);

}  // namespace sagaflow::server
