// The loop that `classify` and `extract` share: read JSON lines
// {"id","text"} (a file or stdin), turn each accepted document into one
// output line, write the lines to stdout in input order, and report bad
// lines on stderr (line number and reason) without stopping.
#pragma once

#include <functional>
#include <string>

#include "io/jsonl_documents.h"

namespace sagaflow::cli {

// Appends the output line of one document (with its newline) to *out.
using DocumentFormatter = std::function<void(const io::Document& doc, std::string* out)>;

// Runs `format` over every accepted document of `input` ("-" = stdin).
// Returns the command's exit status: 0, 1 when a line was rejected, 2 when
// the input could not be read or stdout not written. `command` prefixes
// messages ("classify: ...").
int FilterDocuments(const char* command, const std::string& input, const DocumentFormatter& format);

}  // namespace sagaflow::cli
