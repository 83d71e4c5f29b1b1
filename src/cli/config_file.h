// Settings files: `sagaflow --config FILE COMMAND ...` (or SAGAFLOW_CONFIG)
// gives any option of any command a value from a file, for deployments that
// keep their settings in one reviewed place rather than ~90 variables.
//
// The format is the part TOML and INI share (docs/configuration.md):
//
//   # comment (also ; in INI style)
//   store = "clickhouse://clickhouse:8123/sagaflow"  # every command with --store
//   log-level = info                                 # bare values are INI style
//   [run]                                            # only `sagaflow run`
//   workers = 4
//   [query.top-entities]                             # a nested command
//   limit = 20
//
// A key is an option's long name (`batch_size` and `batch-size` are the
// same). A top-level key applies to every command that has that option, as
// its SAGAFLOW_* variable does; a key in a [command] section only to that
// command, and wins over the top-level one. Values are strings: "basic"
// (escapes \" \\ \n \t \r), 'literal' or bare (up to a # or ; comment).
// Flags take true/false.
//
// Precedence: command-line flags > SAGAFLOW_* variables > the file > the
// built-in defaults. (CLI11's own reader puts the file above the variables.)
//
// Strict: an unknown section or key, a key given twice, a malformed line or
// a value its option refuses is a usage error (exit 2) naming the file and
// line; a file that cannot be read is a runtime failure (exit 1).
#pragma once

#include <CLI/CLI.hpp>
#include <istream>
#include <string>
#include <vector>

namespace sagaflow::cli {

// One `key = value` line of a settings file.
struct ConfigSetting {
  std::vector<std::string> command;  // the section (and dotted key prefix): {} = top level, {"bench", "kafka"}
  std::string key;                   // the option's long name, '_' turned into '-'
  std::string value;
  int line = 0;
};

// Parses the file's text; `file` only names it in errors. Throws
// CLI::ConfigError("FILE line N: ...") on a malformed line or a duplicate.
std::vector<ConfigSetting> ParseConfigText(std::istream& in, const std::string& file);

// Gives the options of the commands being run (`root`'s parsed subcommand
// chain) their values from `settings`, unless a flag or a non-empty
// variable already gave one. Throws CLI::ConfigError naming the file and
// line for a section or key that no command has, or a refused value (the
// value itself is not shown when the key names a secret).
void ApplyConfigSettings(CLI::App& root, const std::vector<ConfigSetting>& settings, const std::string& file);

// Adds --config FILE (SAGAFLOW_CONFIG) to the root app. Call after every
// subcommand is added, and before parse.
void AddConfigOption(CLI::App& root);

}  // namespace sagaflow::cli
