#include "cli/commands.h"

#include <spdlog/spdlog.h>

namespace sagaflow::cli {

namespace {
int g_exit_status = 0;
}

void SetExitStatus(int status) { g_exit_status = status; }

void AddKafkaConfigOption(CLI::App* cmd, std::string* path) {
  cmd->add_option("--kafka-config", *path,
                  "librdkafka properties, one name=value a line (security.protocol, sasl.*, ssl.*; values "
                  "${env:NAME} or ${file:PATH} read a secret); the address's own properties override them")
      ->envname("SAGAFLOW_KAFKA_CONFIG");
}

std::optional<kafka::Properties> LoadKafkaConfig(const char* command, const std::string& path, int* status) {
  if (path.empty()) return kafka::Properties{};
  auto p = kafka::LoadPropertiesFile(path);
  if (!p.ok()) {
    spdlog::error("{}: {}", command, p.status().ToString());
    *status = OpenFailureStatus(p.status());
    return std::nullopt;
  }
  return std::move(*p);
}

int OpenFailureStatus(const Status& st) {
  return st.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
}

int ParseErrorStatus(const CLI::App& app, const CLI::ParseError& e) {
  const int code = app.exit(e);
  // CLI11 throws FileError only for a --config file it cannot read: like a
  // missing model or --kafka-config file, a runtime failure.
  if (dynamic_cast<const CLI::FileError*>(&e) != nullptr) return kExitFailure;
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
