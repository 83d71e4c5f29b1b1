#include "pipeline/report.h"

#include <fmt/format.h>

#include "util/json_writer.h"

namespace sagaflow::pipeline {

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

namespace {
double Rate(uint64_t n, double seconds) { return seconds > 0 ? n / seconds : 0; }

std::string Lagging(int64_t n) { return n < 0 ? "unknown" : Thousands(static_cast<uint64_t>(n)); }
}  // namespace

std::string ProgressLine(const CountersSnapshot& s, double rps) {
  std::string line = fmt::format("{} records  {}/s  rejected {}  empty {}", Thousands(s.records),
                                 Thousands(static_cast<uint64_t>(rps)), Thousands(s.rejected), Thousands(s.empty));
  if (s.skipped) line += fmt::format("  skipped {}", Thousands(s.skipped));
  if (s.duplicates) line += fmt::format("  duplicates {}", Thousands(s.duplicates));
  return line;
}

std::string SummaryText(const CountersSnapshot& s, const RunInfo& info) {
  std::string out;
  out += fmt::format("source   {}\n", info.source);
  out += fmt::format("store    {}\n", info.store);
  out += fmt::format("read     {} records, {:.1f} MiB in {:.2f} s ({} records/s, {:.1f} MiB/s)\n", Thousands(s.records),
                     s.bytes / 1048576.0, info.seconds, Thousands(static_cast<uint64_t>(Rate(s.records, info.seconds))),
                     Rate(s.bytes, info.seconds) / 1048576.0);
  out += fmt::format("stored   {} events ({} classified, {} empty), {} rejected\n", Thousands(s.classified + s.empty),
                     Thousands(s.classified), Thousands(s.empty), Thousands(s.rejected));
  if (s.rejected) {
    std::string reasons;
    for (int i = 0; i < events::kRejectReasonCount; ++i) {
      if (!s.rejected_by_reason[i]) continue;
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ",
                             events::RejectReasonName(static_cast<events::RejectReason>(i)), s.rejected_by_reason[i]);
    }
    out += fmt::format("rejected {}\n", reasons);
  }
  out += fmt::format("skipped  {} records committed by earlier runs, {} duplicates ignored\n", Thousands(s.skipped),
                     Thousands(s.duplicates));
  for (const auto& l : info.lag) {
    out += fmt::format("lag      {}: {} (committed {}, end {})\n", l.key, Lagging(l.lag), Lagging(l.committed),
                       Lagging(l.end));
  }
  return out;
}

std::string SummaryJson(const CountersSnapshot& s, const RunInfo& info) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("source"), w.String(info.source);
  w.Key("store"), w.String(info.store);
  w.Key("seconds"), w.Double(info.seconds);
  w.Key("records"), w.Int(static_cast<int64_t>(s.records));
  w.Key("bytes"), w.Int(static_cast<int64_t>(s.bytes));
  w.Key("records_per_second"), w.Double(Rate(s.records, info.seconds));
  w.Key("events"), w.Int(static_cast<int64_t>(s.classified + s.empty));
  w.Key("classified"), w.Int(static_cast<int64_t>(s.classified));
  w.Key("empty"), w.Int(static_cast<int64_t>(s.empty));
  w.Key("rejected"), w.Int(static_cast<int64_t>(s.rejected));
  w.Key("rejected_by_reason");
  w.BeginObject();
  for (int i = 0; i < events::kRejectReasonCount; ++i) {
    if (!s.rejected_by_reason[i]) continue;
    w.Key(events::RejectReasonName(static_cast<events::RejectReason>(i)));
    w.Int(static_cast<int64_t>(s.rejected_by_reason[i]));
  }
  w.EndObject();
  w.Key("duplicates"), w.Int(static_cast<int64_t>(s.duplicates));
  w.Key("skipped"), w.Int(static_cast<int64_t>(s.skipped));
  w.Key("batches"), w.Int(static_cast<int64_t>(s.batches));
  w.Key("components");
  w.BeginArray();
  for (const auto& c : s.components) {
    w.BeginObject();
    w.Key("component"), w.String(c.component);
    w.Key("kind"), w.String(c.kind);
    w.Key("received"), w.Int(static_cast<int64_t>(c.received));
    w.Key("sent"), w.Int(static_cast<int64_t>(c.sent));
    w.Key("errors"), w.Int(static_cast<int64_t>(c.errors));
    w.Key("dropped"), w.Int(static_cast<int64_t>(c.dropped));
    w.EndObject();
  }
  w.EndArray();
  // -1: unknown (the broker's end offset never arrived).
  w.Key("lag");
  w.BeginArray();
  for (const auto& l : info.lag) {
    w.BeginObject();
    w.Key("stream"), w.String(l.key);
    w.Key("committed"), w.Int(l.committed);
    w.Key("end"), w.Int(l.end);
    w.Key("lag"), w.Int(l.lag);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.push_back('\n');
  return out;
}

}  // namespace sagaflow::pipeline
