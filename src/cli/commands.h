// One function per subcommand: each adds its CLI11 subcommand, its flags (each
// with a SAGAFLOW_* environment variable) and the callback that runs it.
// A callback reports its exit status through SetExitStatus().
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "pipeline/store_uri.h"

namespace sagaflow::cli {

void SetExitStatus(int status);
int ExitStatus();

// The store flags every command that opens one shares: --store URI
// (SAGAFLOW_STORE, required; `what` describes it in --help) and the
// ClickHouse login --store-user / --store-password (SAGAFLOW_CLICKHOUSE_USER,
// SAGAFLOW_CLICKHOUSE_PASSWORD). The pointers must outlive the parse.
void AddStoreOptions(CLI::App* cmd, std::string* store, pipeline::StoreCredentials* login, const std::string& what);

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
void AddBenchQueryCommand(CLI::App& app);          // bench_query_command.cc (after AddBenchCommand)
void AddMigrateCommand(CLI::App& app);             // migrate_command.cc
void AddServeCommand(CLI::App& app);               // serve_command.cc
void AddEntitiesCommand(CLI::App& app);            // entities_command.cc (`entities discover`)
void AddEntitiesScoreCommand(CLI::App* entities);  // entities_score_command.cc (`entities score`)

}  // namespace sagaflow::cli
