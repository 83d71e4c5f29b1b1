// Process-wide logging setup. Logs go to stderr, either human-readable or one
// JSON object per line; data output always goes to stdout.
#pragma once

#include <string>

#include "util/status.h"

namespace sagaflow {

// format: "human" or "json"; level: trace, debug, info, warn, error, off.
Status ConfigureLogging(const std::string& format, const std::string& level);

}  // namespace sagaflow
