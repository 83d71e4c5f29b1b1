#include "server/predict_routes.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

#include "pipeline/analyzer.h"
#include "text/unicode.h"
#include "util/json_writer.h"

namespace sagaflow::server {

namespace {

// Per worker thread: the parser keeps its buffers between requests.
thread_local simdjson::dom::parser tls_parser;

// Parses a request body that must be a JSON object; on failure writes the
// 400 and returns false.
bool ParseObject(std::string_view body, simdjson::dom::object* obj, HttpResponse& res) {
  simdjson::dom::element root;
  if (auto error = tls_parser.parse(body.data(), body.size()).get(root)) {
    if (error == simdjson::UTF8_ERROR) {
      SendError(res, 400, "the body is not valid UTF-8");
    } else if (error == simdjson::EMPTY) {
      SendError(res, 400, "the body is empty: expected a JSON object such as {\"text\": \"...\"}");
    } else {
      SendError(res, 400, fmt::format("malformed JSON: {}", simdjson::error_message(error)));
    }
    return false;
  }
  if (root.get(*obj)) {
    SendError(res, 400, "the body must be a JSON object such as {\"text\": \"...\"}");
    return false;
  }
  return true;
}

// The string member `key`; on a missing or mistyped one writes the 400.
bool StringField(const simdjson::dom::object& obj, std::string_view key, std::string_view* out, HttpResponse& res) {
  simdjson::dom::element e;
  if (obj.at_key(key).get(e)) {
    SendError(res, 400, fmt::format("missing field \"{}\" (a string)", key));
    return false;
  }
  if (e.get(*out)) {
    SendError(res, 400, fmt::format("field \"{}\" must be a string", key));
    return false;
  }
  return true;
}

class TextRoutes {
 public:
  explicit TextRoutes(const pipeline::AnalysisModel& model) : model_(model) {
    for (const auto& l : model.classifier.labels()) {
      std::string quoted;
      AppendJsonString(&quoted, l);
      label_json_.push_back(std::move(quoted));
    }
  }

  // {"label": ..., "scores": {...}} or {"label": null, "empty": true}; the
  // object is left open for the caller to add members.
  // Returns the label index, or -1 for a blank text.
  int Predict(std::string_view text, std::string* out, std::vector<double>* scores,
              std::vector<pipeline::MentionRow>* mentions) const {
    if (text::IsBlank(text)) {
      out->append("{\"label\":null,\"empty\":true");
      return -1;
    }
    scores->resize(label_json_.size());
    int label;
    if (mentions) {
      thread_local std::vector<text::Mention> scratch;
      label = pipeline::AnalyzeText(model_.classifier, model_.matcher, model_.dimensions, text, scores->data(),
                                    &scratch, mentions);
    } else {
      label = model_.classifier.Predict(text, scores->data());
    }
    out->append("{\"label\":").append(label_json_[static_cast<size_t>(label)]).append(",\"scores\":{");
    for (size_t k = 0; k < label_json_.size(); ++k) {
      if (k) out->push_back(',');
      out->append(label_json_[k]).push_back(':');
      JsonWriter(out).Double((*scores)[k]);
    }
    out->push_back('}');
    return label;
  }

  void HandlePredict(const HttpRequest& req, HttpResponse& res) const {
    simdjson::dom::object obj;
    std::string_view text;
    if (!ParseObject(req.body, &obj, res) || !StringField(obj, "text", &text, res)) return;
    std::string out;
    std::vector<double> scores;
    Predict(text, &out, &scores, nullptr);
    out.push_back('}');
    SendJson(res, 200, std::move(out));
  }

  void HandleV1Predict(const HttpRequest& req, HttpResponse& res) const {
    simdjson::dom::object obj;
    if (!ParseObject(req.body, &obj, res)) return;
    simdjson::dom::element texts;
    const bool has_texts = !obj.at_key("texts").get(texts);
    simdjson::dom::element single;
    const bool has_text = !obj.at_key("text").get(single);
    if (has_texts == has_text) {
      SendError(res, 400, "give either \"text\" (a string) or \"texts\" (an array of strings)");
      return;
    }
    std::string out;
    std::vector<double> scores;
    if (has_text) {
      std::string_view text;
      if (!StringField(obj, "text", &text, res)) return;
      Predict(text, &out, &scores, nullptr);
      out.push_back('}');
      SendJson(res, 200, std::move(out));
      return;
    }
    simdjson::dom::array list;
    if (texts.get(list)) {
      SendError(res, 400, "field \"texts\" must be an array of strings");
      return;
    }
    if (list.size() > kMaxBatchTexts) {
      SendError(res, 413, fmt::format("\"texts\" holds {} texts; at most {} per request", list.size(), kMaxBatchTexts));
      return;
    }
    out.append("{\"predictions\":[");
    size_t i = 0;
    for (simdjson::dom::element e : list) {
      std::string_view text;
      if (e.get(text)) {
        SendError(res, 400, fmt::format("texts[{}] must be a string", i));
        return;
      }
      if (i++) out.push_back(',');
      Predict(text, &out, &scores, nullptr);
      out.push_back('}');
    }
    out.append("]}");
    SendJson(res, 200, std::move(out));
  }

  void HandleAnalyze(const HttpRequest& req, HttpResponse& res) const {
    simdjson::dom::object obj;
    std::string_view text;
    if (!ParseObject(req.body, &obj, res) || !StringField(obj, "text", &text, res)) return;
    std::string out;
    std::vector<double> scores;
    std::vector<pipeline::MentionRow> rows;
    Predict(text, &out, &scores, &rows);
    // By canonical name (an unscoped and a scoped entity may share one),
    // most mentioned first, then by name.
    std::vector<std::pair<std::string_view, uint64_t>> mentions;
    for (const pipeline::MentionRow& r : rows) {
      std::string_view name = model_.dimensions.entities[r.entity].name;
      auto it = std::find_if(mentions.begin(), mentions.end(), [&](const auto& m) { return m.first == name; });
      if (it == mentions.end()) {
        mentions.emplace_back(name, r.count);
      } else {
        it->second += r.count;
      }
    }
    std::sort(mentions.begin(), mentions.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    out.append(",\"mentions\":{");
    for (size_t i = 0; i < mentions.size(); ++i) {
      if (i) out.push_back(',');
      AppendJsonString(&out, mentions[i].first);
      out.append(fmt::format(":{}", mentions[i].second));
    }
    out.append("}}");
    SendJson(res, 200, std::move(out));
  }

 private:
  const pipeline::AnalysisModel& model_;
  std::vector<std::string> label_json_;
};

}  // namespace

void AddPredictRoutes(const pipeline::AnalysisModel& model, HttpService* service) {
  auto routes = std::make_shared<TextRoutes>(model);
  service->AddRoute({"POST", "/predict", Access::kToken,
                     [routes](const HttpRequest& req, HttpResponse& res) { routes->HandlePredict(req, res); }});
  service->AddRoute({"POST", "/v1/predict", Access::kToken,
                     [routes](const HttpRequest& req, HttpResponse& res) { routes->HandleV1Predict(req, res); }});
  service->AddRoute({"POST", "/v1/analyze", Access::kToken,
                     [routes](const HttpRequest& req, HttpResponse& res) { routes->HandleAnalyze(req, res); }});
}

}  // namespace sagaflow::server
