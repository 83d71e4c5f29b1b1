// JsonlDocuments: reads `{"id": ..., "text": "..."}` JSON lines, the input of
// `classify` and `extract`. Each line is parsed with one reused simdjson
// parser; invalid UTF-8, malformed JSON, a missing or mistyped field and
// over-long lines are reported per line (line number and reason) and the
// reader moves on to the next line.
//
// Not thread-safe; one reader per input.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>

#include "io/line_reader.h"
#include "util/status.h"

namespace sagaflow::io {

struct Document {
  uint64_t line = 0;
  std::string_view id_json;  // the id exactly as written (a JSON string or integer)
  std::string_view text;     // unescaped, valid UTF-8
};

class JsonlDocuments {
 public:
  explicit JsonlDocuments(std::unique_ptr<LineReader> lines);

  static Result<std::unique_ptr<JsonlDocuments>> Open(const std::string& path);

  enum class Outcome { kDocument, kRejected, kEnd };
  // On kDocument fills *doc (views valid until the next call). On kRejected
  // fills *reason with "line N: <why>". I/O failures return a non-OK status.
  Result<Outcome> Next(Document* doc, std::string* reason);

 private:
  std::unique_ptr<LineReader> lines_;
  simdjson::dom::parser parser_;
  std::string id_;  // the id re-encoded as JSON
};

}  // namespace sagaflow::io
