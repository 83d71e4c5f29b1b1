// sagaflow: one binary, subcommands for every job (see `sagaflow --help`).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "cli/config_file.h"
#include "util/logging.h"

int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape): CLI11 throws only on invalid option setup
  CLI::App app{"sagaflow: streaming text analytics for saga articles (classify, count entities, star schema)"};
  app.set_version_flag("--version", std::string("sagaflow ") + SAGAFLOW_VERSION);
  app.require_subcommand(1);
  // Root options (--config, --log-level, --log-format) may also follow the
  // subcommand: `sagaflow validate --config FILE`.
  app.fallthrough();
  std::string log_format = "human", log_level = "info";
  app.add_option("--log-format", log_format, "Log format on stderr: human or json")
      ->envname("SAGAFLOW_LOG_FORMAT")
      ->check(CLI::IsMember({"human", "json"}));
  app.add_option("--log-level", log_level, "Log level: trace, debug, info, warn, error, off")
      ->envname("SAGAFLOW_LOG_LEVEL");
  app.parse_complete_callback([&] {
    auto st = sagaflow::ConfigureLogging(log_format, log_level);
    if (!st.ok()) throw CLI::ValidationError("--log-format/--log-level", st.message());
  });

  // Subcommands (one file each under src/cli/).
  sagaflow::cli::AddClassifyCommand(app);
  sagaflow::cli::AddProduceCommand(app);
  sagaflow::cli::AddRunCommand(app);
  sagaflow::cli::AddMigrateCommand(app);
  sagaflow::cli::AddQueryCommand(app);
  sagaflow::cli::AddTrainCommand(app);
  sagaflow::cli::AddBenchCommand(app);
  sagaflow::cli::AddBenchPipelineCommand(app);  // after AddBenchCommand
  sagaflow::cli::AddDevBrokerCommand(app);
  sagaflow::cli::AddExtractCommand(app);
  sagaflow::cli::AddBenchKafkaCommand(app);     // after AddBenchCommand
  sagaflow::cli::AddBenchFailoverCommand(app);  // after AddBenchCommand
  sagaflow::cli::AddBenchQueryCommand(app);     // after AddBenchCommand
  sagaflow::cli::AddServeCommand(app);
  sagaflow::cli::AddEntitiesCommand(app);
  sagaflow::cli::AddValidateCommand(app);
  sagaflow::cli::AddConfigOption(app);  // after every subcommand: the file may set any of their options

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return sagaflow::cli::ParseErrorStatus(app, e);
  }
  std::fflush(stdout);
  return sagaflow::cli::ExitStatus();
}
