// One function per subcommand: each adds its CLI11 subcommand, its flags (each
// with a SAGAFLOW_* environment variable) and the callback that runs it.
// A callback reports its exit status through SetExitStatus().
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "kafka/kafka_config.h"
#include "pipeline/store_uri.h"
#include "util/status.h"

namespace sagaflow::cli {

// Exit statuses, the same for every command (README, "Exit status"):
inline constexpr int kExitSuccess = 0;  // did what was asked
inline constexpr int kExitFailure = 1;  // failed while working: a file, the store, the broker, skipped records
inline constexpr int kExitUsage = 2;    // the command line is wrong: unknown flag, bad value, missing argument;
                                        // also a query naming a saga or entity the store does not know

void SetExitStatus(int status);

// Bound checks whose messages give the bounds as plain numbers (CLI11's own
// NonNegativeNumber prints the largest double, 309 digits) and say which
// value was refused: "-1 is not a number from 0 to 65535".
template <typename T>
CLI::Validator InRange(T min, T max) {
  return CLI::Validator(
      [min, max](std::string& input) -> std::string {
        long double v = 0;
        if (CLI::detail::lexical_cast(input, v) && v >= static_cast<long double>(min) &&
            v <= static_cast<long double>(max)) {
          return {};
        }
        return fmt::format("{} is not a number from {} to {}", input, min, max);
      },
      fmt::format("{} to {}", min, max));
}
template <typename T>
CLI::Validator AtLeast(T min) {
  return CLI::Validator(
      [min](std::string& input) -> std::string {
        long double v = 0;
        if (CLI::detail::lexical_cast(input, v) && v >= static_cast<long double>(min)) return {};
        return fmt::format("{} is not a number of at least {}", input, min);
      },
      fmt::format(">= {}", min));
}
template <typename T>
CLI::Validator Above(T min) {
  return CLI::Validator(
      [min](std::string& input) -> std::string {
        long double v = 0;
        if (CLI::detail::lexical_cast(input, v) && v > static_cast<long double>(min)) return {};
        return fmt::format("{} is not a number above {}", input, min);
      },
      fmt::format("> {}", min));
}

// The status for a failure to open a store, a source or a Kafka client: the
// Open functions return kInvalidArgument only for what the command line got
// wrong (a malformed address, an unknown option or property), so that is a
// usage error; anything else (a file, a broker) is a runtime failure.
int OpenFailureStatus(const Status& st);

// Maps CLI11's parse errors to the statuses above: --help and --version exit
// 0, an unreadable --config file kExitFailure, every other parse error
// (CLI11's own codes 101-116) kExitUsage.
// Prints what CLI11 prints.
int ParseErrorStatus(const CLI::App& app, const CLI::ParseError& e);
int ExitStatus();

// The store flags every command that opens one shares: --store URI
// (SAGAFLOW_STORE, required; `what` describes it in --help) and the
// ClickHouse login --store-user / --store-password (SAGAFLOW_CLICKHOUSE_USER,
// SAGAFLOW_CLICKHOUSE_PASSWORD). The pointers must outlive the parse.
void AddStoreOptions(CLI::App* cmd, std::string* store, pipeline::StoreCredentials* login, const std::string& what);

// --kafka-config FILE (SAGAFLOW_KAFKA_CONFIG): librdkafka properties of every
// command that talks to Kafka (kafka/kafka_config.h, docs/kafka.md).
void AddKafkaConfigOption(CLI::App* cmd, std::string* path);
// The properties of that file ({} without one); logs the error and sets
// `*status` (OpenFailureStatus) on failure.
std::optional<kafka::Properties> LoadKafkaConfig(const char* command, const std::string& path, int* status);

void AddClassifyCommand(CLI::App& app);            // classify_command.cc
void AddProduceCommand(CLI::App& app);             // produce_command.cc
void AddRunCommand(CLI::App& app);                 // run_command.cc
void AddQueryCommand(CLI::App& app);               // query_command.cc
void AddTrainCommand(CLI::App& app);               // train_command.cc
void AddBenchCommand(CLI::App& app);               // bench_command.cc (`bench` and `bench text`)
void AddBenchPipelineCommand(CLI::App& app);       // bench_pipeline_command.cc (after AddBenchCommand)
void AddDevBrokerCommand(CLI::App& app);           // dev_broker_command.cc
void AddExtractCommand(CLI::App& app);             // extract_command.cc
void AddBenchKafkaCommand(CLI::App& app);          // bench_kafka_command.cc (after AddBenchCommand)
void AddBenchFailoverCommand(CLI::App& app);       // bench_failover_command.cc (after AddBenchCommand)
void AddBenchQueryCommand(CLI::App& app);          // bench_query_command.cc (after AddBenchCommand)
void AddMigrateCommand(CLI::App& app);             // migrate_command.cc
void AddServeCommand(CLI::App& app);               // serve_command.cc
void AddEntitiesCommand(CLI::App& app);            // entities_command.cc (`entities discover`)
void AddEntitiesScoreCommand(CLI::App* entities);  // entities_score_command.cc (`entities score`)
void AddValidateCommand(CLI::App& app);            // validate_command.cc

}  // namespace sagaflow::cli
