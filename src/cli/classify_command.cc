// `sagaflow classify`: labels JSON-lines documents with a text model.
//
// Input: {"id": ..., "text": "..."} per line (--input file, or stdin).
// Output, one line per accepted input, in input order:
//   {"id":...,"label":"hp","scores":{"got":-2.04,"lotr":-2.5,"hp":2.47}}
//   {"id":...,"label":null,"empty":true}     (empty or whitespace-only text)
// A bad line is reported on stderr (line number and reason) and skipped;
// the exit status is then 1. Failing to load the model or to read the input
// exits with status 2.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "io/jsonl_documents.h"
#include "text/classifier.h"
#include "text/unicode.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

struct ClassifyOptions {
  std::string model;
  std::string input = "-";
};

bool WriteAll(const std::string& out) {
  return std::fwrite(out.data(), 1, out.size(), stdout) == out.size();
}

int RunClassify(const ClassifyOptions& opts) {
  auto classifier = text::Classifier::LoadFile(opts.model);
  if (!classifier.ok()) {
    spdlog::error("classify: {}", classifier.status().ToString());
    return 2;
  }
  auto docs = io::JsonlDocuments::Open(opts.input);
  if (!docs.ok()) {
    spdlog::error("classify: {}", docs.status().ToString());
    return 2;
  }
  const std::vector<std::string>& labels = classifier->labels();
  // Label names as JSON strings, encoded once.
  std::vector<std::string> label_json(labels.size());
  for (size_t k = 0; k < labels.size(); ++k) AppendJsonString(&label_json[k], labels[k]);
  std::vector<double> scores(labels.size());

  std::string out;
  out.reserve(kFlushBytes + 4096);
  uint64_t rejected = 0, classified = 0;
  io::Document doc;
  std::string reason;
  for (;;) {
    auto outcome = (*docs)->Next(&doc, &reason);
    if (!outcome.ok()) {
      WriteAll(out);
      spdlog::error("classify: reading {}: {}", opts.input, outcome.status().ToString());
      return 2;
    }
    if (*outcome == io::JsonlDocuments::Outcome::kEnd) break;
    if (*outcome == io::JsonlDocuments::Outcome::kRejected) {
      spdlog::warn("classify: {}: {}; skipped", opts.input == "-" ? "stdin" : opts.input, reason);
      ++rejected;
      continue;
    }
    out.append("{\"id\":");
    out.append(doc.id_json);
    if (text::IsBlank(doc.text)) {
      out.append(",\"label\":null,\"empty\":true}\n");
    } else {
      int best = classifier->Predict(doc.text, scores.data());
      out.append(",\"label\":");
      out.append(label_json[best]);
      out.append(",\"scores\":{");
      for (size_t k = 0; k < labels.size(); ++k) {
        if (k) out.push_back(',');
        out.append(label_json[k]);
        out.push_back(':');
        JsonWriter(&out).Double(scores[k]);
      }
      out.append("}}\n");
    }
    ++classified;
    if (out.size() >= kFlushBytes) {
      if (!WriteAll(out)) {
        spdlog::error("classify: writing output failed");
        return 2;
      }
      out.clear();
    }
  }
  if (!WriteAll(out) || std::fflush(stdout) != 0) {
    spdlog::error("classify: writing output failed");
    return 2;
  }
  spdlog::debug("classify: {} documents written, {} lines rejected", classified, rejected);
  return rejected ? 1 : 0;
}

}  // namespace

void AddClassifyCommand(CLI::App& app) {
  auto opts = std::make_shared<ClassifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "classify", "Label JSON lines {\"id\",\"text\"} with a text model (docs/model-format.md)");
  cmd->add_option("--model", opts->model, "Model JSON (tools/export_sklearn_model.py or the trainer)")
      ->envname("SAGAFLOW_MODEL")
      ->required();
  cmd->add_option("--input", opts->input, "JSON-lines input file, '-' for stdin")
      ->envname("SAGAFLOW_INPUT")
      ->capture_default_str();
  cmd->callback([opts] { SetExitStatus(RunClassify(*opts)); });
}

}  // namespace sagaflow::cli
