#include "cli/commands.h"

namespace sagaflow::cli {

namespace {
int g_exit_status = 0;
}

void SetExitStatus(int status) { g_exit_status = status; }
int ExitStatus() { return g_exit_status; }

}  // namespace sagaflow::cli
