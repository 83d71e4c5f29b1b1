// `sagaflow extract`: counts entity mentions in JSON-lines documents
// (rules and dictionary formats: docs/entities.md).
//
// Input: {"id": ..., "text": "..."} per line (--input file, or stdin).
// Output, one line per accepted input, in input order:
//   {"id":...,"mentions":{"Jon Snow":3,"Arya Stark":1}}                 (no --model)
//   {"id":...,"saga":"got","mentions":{"Jon Snow":3}}                   (--model)
//   {"id":...,"saga":null,"mentions":{}}                                (--model, blank text)
// Without a model every text is of unknown saga: only unscoped entries
// count. A bad line is reported on stderr (line number and reason) and
// skipped; the exit status is then 1, as it is when loading the dictionary
// or the model, or reading the input, fails (README, "Exit status").
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/document_filter.h"
#include "text/classifier.h"
#include "text/entity_matcher.h"
#include "text/unicode.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

struct ExtractOptions {
  std::string entities;
  std::string model;
  std::string input = "-";
};

int RunExtract(const ExtractOptions& opts) {
  auto dict = text::EntityDictionary::LoadFile(opts.entities);
  if (!dict.ok()) {
    spdlog::error("extract: {}", dict.status().ToString());
    return kExitFailure;
  }
  for (const std::string& note : dict->notes()) spdlog::debug("extract: {}: {}", opts.entities, note);
  auto matcher = text::EntityMatcher::Build(*dict);
  if (!matcher.ok()) {
    spdlog::error("extract: {}", matcher.status().ToString());
    return kExitFailure;
  }
  std::optional<text::Classifier> classifier;
  std::vector<std::string> label_json;  // label names as JSON strings, encoded once
  std::vector<double> scores;
  if (!opts.model.empty()) {
    auto loaded = text::Classifier::LoadFile(opts.model);
    if (!loaded.ok()) {
      spdlog::error("extract: {}", loaded.status().ToString());
      return kExitFailure;
    }
    classifier.emplace(std::move(loaded).value());
    for (const std::string& label : classifier->labels()) AppendJsonString(&label_json.emplace_back(), label);
    scores.resize(label_json.size());
    // A model exported without saga names (labels "0", "1", "2") would silently count no scoped entry.
    const auto& labels = classifier->labels();
    const bool scoped = std::any_of(dict->entities().begin(), dict->entities().end(), [&](const text::Entity& e) {
      return std::find(labels.begin(), labels.end(), e.saga) != labels.end();
    });
    if (!scoped && std::any_of(dict->entities().begin(), dict->entities().end(),
                               [](const text::Entity& e) { return !e.saga.empty(); })) {
      spdlog::warn("extract: no label of {} names a saga of {}: only its unscoped entries will count", opts.model,
                   opts.entities);
    }
  }
  std::vector<std::string> name_json;  // canonical names as JSON strings
  for (const text::Entity& e : dict->entities()) AppendJsonString(&name_json.emplace_back(), e.name);

  std::vector<text::Mention> mentions;
  mentions.reserve(dict->entities().size());
  return FilterDocuments("extract", opts.input, [&](const io::Document& doc, std::string* out) {
    out->append("{\"id\":");
    out->append(doc.id_json);
    std::string_view saga;
    if (classifier) {
      out->append(",\"saga\":");
      if (text::IsBlank(doc.text)) {
        out->append("null");
      } else {
        const int label = classifier->Predict(doc.text, scores.data());
        saga = classifier->labels()[label];
        out->append(label_json[label]);
      }
    }
    matcher->Count(doc.text, saga, &mentions);
    out->append(",\"mentions\":{");
    for (size_t k = 0; k < mentions.size(); ++k) {
      if (k) out->push_back(',');
      out->append(name_json[mentions[k].entity]);
      out->push_back(':');
      out->append(std::to_string(mentions[k].count));
    }
    out->append("}}\n");
  });
}

}  // namespace

void AddExtractCommand(CLI::App& app) {
  auto opts = std::make_shared<ExtractOptions>();
  CLI::App* cmd =
      app.add_subcommand("extract", "Count entity mentions in JSON lines {\"id\",\"text\"} (docs/entities.md)");
  cmd->add_option("--entities", opts->entities, "Entity dictionary: flat list or curated TSV")
      ->envname("SAGAFLOW_ENTITIES")
      ->required();
  cmd->add_option("--model", opts->model, "Text model JSON; classifies each text to scope the dictionary")
      ->envname("SAGAFLOW_MODEL");
  cmd->add_option("--input", opts->input, "JSON-lines input file, '-' for stdin")
      ->envname("SAGAFLOW_INPUT")
      ->capture_default_str();
  cmd->callback([opts] { SetExitStatus(RunExtract(*opts)); });
}

}  // namespace sagaflow::cli
