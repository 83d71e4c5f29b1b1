#include "cli/commands.h"

namespace sagaflow::cli {

namespace {
int g_exit_status = 0;
}

void SetExitStatus(int status) { g_exit_status = status; }

int OpenFailureStatus(const Status& st) {
  return st.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
}

int ParseErrorStatus(const CLI::App& app, const CLI::ParseError& e) {
  const int code = app.exit(e);
  return code == static_cast<int>(CLI::ExitCodes::Success) ? kExitSuccess : kExitUsage;
}
int ExitStatus() { return g_exit_status; }

void AddStoreOptions(CLI::App* cmd, std::string* store, pipeline::StoreCredentials* login, const std::string& what) {
  cmd->add_option("--store", *store, what)->envname("SAGAFLOW_STORE")->required();
  cmd->add_option("--store-user", login->user, "ClickHouse user (default: the URI's, else \"default\")")
      ->envname("SAGAFLOW_CLICKHOUSE_USER");
  cmd->add_option("--store-password", login->password, "ClickHouse password (default: the URI's)")
      ->envname("SAGAFLOW_CLICKHOUSE_PASSWORD");
}

}  // namespace sagaflow::cli
