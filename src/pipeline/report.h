// What a run tells people and machines: the live progress line and the
// final summary (text or JSON), both from a counters snapshot.
#pragma once

#include <string>
#include <vector>

#include "pipeline/counters.h"
#include "sources/source.h"

namespace sagaflow::pipeline {

struct RunInfo {
  std::string source;  // Source::Describe()
  std::string store;   // Sink::Describe()
  double seconds = 0;
  // Consumer lag per stream when the run ended (sources whose streams grow,
  // such as Kafka partitions; empty for files).
  std::vector<sources::StreamLag> lag;
};

// One line without a newline: "12,345 records  30,120/s  rejected 3  empty 0".
std::string ProgressLine(const CountersSnapshot& s, double records_per_second);

// Multi-line, for people.
std::string SummaryText(const CountersSnapshot& s, const RunInfo& info);
// One JSON object and a newline: totals, rejected by reason, the four
// counters of every component and the lag of every stream.
std::string SummaryJson(const CountersSnapshot& s, const RunInfo& info);

// 12345678 -> "12,345,678".
std::string Thousands(uint64_t n);

}  // namespace sagaflow::pipeline
