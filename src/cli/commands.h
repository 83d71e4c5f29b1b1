// One function per subcommand: each adds its CLI11 subcommand, its flags (each
// with a SAGAFLOW_* environment variable) and the callback that runs it.
// A callback reports its exit status through SetExitStatus().
#pragma once

#include <CLI/CLI.hpp>

namespace sagaflow::cli {

void SetExitStatus(int status);
int ExitStatus();


}  // namespace sagaflow::cli
