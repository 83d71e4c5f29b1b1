#include "cli/document_filter.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"

namespace sagaflow::cli {
namespace {

// Output is written in chunks of about this size.
constexpr size_t kFlushBytes = 1 << 20;

bool WriteAll(const std::string& out) { return std::fwrite(out.data(), 1, out.size(), stdout) == out.size(); }

}  // namespace

int FilterDocuments(const char* command, const std::string& input, const DocumentFormatter& format) {
  auto docs = io::JsonlDocuments::Open(input);
  if (!docs.ok()) {
    spdlog::error("{}: {}", command, docs.status().ToString());
    return kExitFailure;
  }
  std::string out;
  out.reserve(kFlushBytes + 4096);
  uint64_t rejected = 0, written = 0;
  io::Document doc;
  std::string reason;
  for (;;) {
    auto outcome = (*docs)->Next(&doc, &reason);
    if (!outcome.ok()) {
      WriteAll(out);
      spdlog::error("{}: reading {}: {}", command, input, outcome.status().ToString());
      return kExitFailure;
    }
    if (*outcome == io::JsonlDocuments::Outcome::kEnd) break;
    if (*outcome == io::JsonlDocuments::Outcome::kRejected) {
      spdlog::warn("{}: {}: {}; skipped", command, input == "-" ? "stdin" : input, reason);
      ++rejected;
      continue;
    }
    format(doc, &out);
    ++written;
    if (out.size() >= kFlushBytes) {
      if (!WriteAll(out)) {
        spdlog::error("{}: writing output failed", command);
        return kExitFailure;
      }
      out.clear();
    }
  }
  if (!WriteAll(out) || std::fflush(stdout) != 0) {
    spdlog::error("{}: writing output failed", command);
    return kExitFailure;
  }
  spdlog::debug("{}: {} documents written, {} lines rejected", command, written, rejected);
  return rejected ? 1 : 0;
}

}  // namespace sagaflow::cli
