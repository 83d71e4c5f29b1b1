#include "io/jsonl_documents.h"

#include <fmt/format.h>

#include "util/json_writer.h"

namespace sagaflow::io {

namespace sj = simdjson;

JsonlDocuments::JsonlDocuments(std::unique_ptr<LineReader> lines) : lines_(std::move(lines)) {}

Result<std::unique_ptr<JsonlDocuments>> JsonlDocuments::Open(const std::string& path) {
  auto lines = LineReader::Open(path);
  if (!lines.ok()) return lines.status();
  return std::make_unique<JsonlDocuments>(std::move(*lines));
}

namespace {

// Reason text for a simdjson error, phrased for a user.
std::string Describe(sj::error_code e) {
  switch (e) {
    case sj::UTF8_ERROR:
      return "invalid UTF-8";
    case sj::STRING_ERROR:
      return "invalid string (bad escape or unpaired surrogate)";
    case sj::INCORRECT_TYPE:
      return "wrong type";
    case sj::NO_SUCH_FIELD:
      return "missing field";
    default:
      return std::string("malformed JSON (") + sj::error_message(e) + ")";
  }
}

}  // namespace

Result<JsonlDocuments::Outcome> JsonlDocuments::Next(Document* doc, std::string* reason) {
  LineReader::Line line;
  for (;;) {
    SAGAFLOW_RETURN_IF_ERROR(lines_->Next(&line));
    if (line.kind == LineReader::Kind::kEnd) return Outcome::kEnd;
    if (line.kind == LineReader::Kind::kTooLong) {
      *reason = fmt::format("line {}: line too long", line.number);
      return Outcome::kRejected;
    }
    // Blank lines separate nothing in JSONL; skip them silently.
    if (line.text.find_first_not_of(" \t") == std::string_view::npos) continue;
    break;
  }
  doc->line = line.number;
  auto fail = [&](std::string why) {
    *reason = fmt::format("line {}: {}", line.number, why);
    return Outcome::kRejected;
  };
  // The DOM parser dispatches at run time to the best SIMD kernel the CPU
  // has and validates UTF-8 over the whole line.
  sj::dom::element root;
  if (auto e = parser_.parse(line.text.data(), line.text.size(), false).get(root)) return fail(Describe(e));
  sj::dom::object obj;
  if (root.get(obj)) return fail("not a JSON object");

  bool have_id = false, have_text = false;
  for (auto [key, v] : obj) {
    if (key == "id") {
      if (v.is_string()) {
        id_.clear();
        AppendJsonString(&id_, v.get_string().value_unsafe());
      } else if (v.is_int64()) {
        id_ = std::to_string(v.get_int64().value_unsafe());
      } else {
        return fail("field \"id\": must be a string or an integer");
      }
      have_id = true;
    } else if (key == "text") {
      if (!v.is_string()) return fail("field \"text\": must be a string");
      doc->text = v.get_string().value_unsafe();  // in the parser's buffer until the next line
      have_text = true;
    }
    // Unknown fields are ignored.
  }
  if (!have_id) return fail("missing field \"id\"");
  if (!have_text) return fail("missing field \"text\"");
  doc->id_json = id_;
  return Outcome::kDocument;
}

}  // namespace sagaflow::io
