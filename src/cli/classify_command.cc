// `sagaflow classify`: labels JSON-lines documents with a text model.
//
// Input: {"id": ..., "text": "..."} per line (--input file, or stdin).
// Output, one line per accepted input, in input order:
//   {"id":...,"label":"hp","scores":{"got":-2.04,"lotr":-2.5,"hp":2.47}}
//   {"id":...,"label":null,"empty":true}     (empty or whitespace-only text)
// A bad line is reported on stderr (line number and reason) and skipped;
// the exit status is then 1, as it is when loading the model or reading the input
// fails (README, "Exit status").
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/document_filter.h"
#include "text/classifier.h"
#include "text/unicode.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

struct ClassifyOptions {
  std::string model;
  std::string input = "-";
};

int RunClassify(const ClassifyOptions& opts) {
  auto classifier = text::Classifier::LoadFile(opts.model);
  if (!classifier.ok()) {
    spdlog::error("classify: {}", classifier.status().ToString());
    return kExitFailure;
  }
  const std::vector<std::string>& labels = classifier->labels();
  // Label names as JSON strings, encoded once.
  std::vector<std::string> label_json(labels.size());
  for (size_t k = 0; k < labels.size(); ++k) AppendJsonString(&label_json[k], labels[k]);
  std::vector<double> scores(labels.size());
  return FilterDocuments("classify", opts.input, [&](const io::Document& doc, std::string* out) {
    out->append("{\"id\":");
    out->append(doc.id_json);
    if (text::IsBlank(doc.text)) {
      out->append(",\"label\":null,\"empty\":true}\n");
      return;
    }
    int best = classifier->Predict(doc.text, scores.data());
    out->append(",\"label\":");
    out->append(label_json[best]);
    out->append(",\"scores\":{");
    for (size_t k = 0; k < labels.size(); ++k) {
      if (k) out->push_back(',');
      out->append(label_json[k]);
      out->push_back(':');
      JsonWriter(out).Double(scores[k]);
    }
    out->append("}}\n");
  });
}

}  // namespace

void AddClassifyCommand(CLI::App& app) {
  auto opts = std::make_shared<ClassifyOptions>();
  CLI::App* cmd =
      app.add_subcommand("classify", "Label JSON lines {\"id\",\"text\"} with a text model (docs/model-format.md)");
  cmd->add_option("--model", opts->model, "Model JSON (tools/export_sklearn_model.py or the trainer)")
      ->envname("SAGAFLOW_MODEL")
      ->required();
  cmd->add_option("--input", opts->input, "JSON-lines input file, '-' for stdin")
      ->envname("SAGAFLOW_INPUT")
      ->capture_default_str();
  cmd->callback([opts] { SetExitStatus(RunClassify(*opts)); });
}

}  // namespace sagaflow::cli
