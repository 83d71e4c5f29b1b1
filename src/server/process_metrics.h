// The process families every Prometheus client library exports (names and
// meaning as https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics),
// read from /proc/self at every scrape, and sagaflow_build_info:
//   process_cpu_seconds_total          counter: user + system CPU time
//   process_resident_memory_bytes      gauge: resident set size
//   process_virtual_memory_bytes       gauge: virtual memory size
//   process_open_fds                   gauge: open file descriptors
//   process_max_fds                    gauge: the soft RLIMIT_NOFILE
//   process_start_time_seconds         gauge: start time, unix seconds
//   process_threads                    gauge: threads of the process
//   sagaflow_build_info{version,revision}  gauge, always 1 (util/build_info.h)
// A family whose /proc file cannot be read (another OS, a restricted
// sandbox) is left out rather than reported as 0.
#pragma once

#include "server/metrics.h"

namespace sagaflow::server {

// A collector for MetricsRegistry::AddCollector (thread-safe).
MetricsRegistry::Collector ProcessCollector();

// One reading of the process families (what ProcessCollector renders);
// negative where unknown.
struct ProcessStats {
  double cpu_seconds = -1;
  double resident_bytes = -1;
  double virtual_bytes = -1;
  double open_fds = -1;
  double max_fds = -1;
  double start_time_seconds = -1;
  double threads = -1;
};
ProcessStats ReadProcessStats();

}  // namespace sagaflow::server
