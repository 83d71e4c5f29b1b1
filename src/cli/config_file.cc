#include "cli/config_file.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>

#include "util/redact.h"

namespace sagaflow::cli {

namespace {

[[noreturn]] void Refuse(const std::string& file, int line, const std::string& what) {
  throw CLI::ConfigError(fmt::format("{} line {}: {}", file, line, what));
}

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// What may follow a value or a section header: nothing or a comment.
bool OnlyComment(std::string_view rest) {
  rest = Trim(rest);
  return rest.empty() || rest.front() == '#' || rest.front() == ';';
}

// "bench.kafka" -> {"bench", "kafka"}, '_' read as '-'; empty if a part is
// empty or holds anything but letters, digits, '-' and '_'.
std::vector<std::string> DottedName(std::string_view s) {
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (c == '.') {
      if (parts.back().empty()) return {};
      parts.emplace_back();
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      parts.back().push_back(c == '_' ? '-' : c);
    } else {
      return {};
    }
  }
  if (parts.back().empty()) return {};
  return parts;
}

std::string BasicString(std::string_view v, const std::string& file, int line) {
  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '"') {
      if (!OnlyComment(v.substr(i + 1))) Refuse(file, line, "text after the closing quote");
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == v.size()) break;
    constexpr std::string_view kEscapes = "\"\\ntr", kMeanings = "\"\\\n\t\r";
    const size_t escape = kEscapes.find(v[i]);
    if (escape == std::string_view::npos) {
      Refuse(file, line, fmt::format("unknown escape \\{} (\\\" \\\\ \\n \\t \\r)", v[i]));
    }
    out.push_back(kMeanings[escape]);
  }
  Refuse(file, line, "a quoted value without its closing quote");
}

std::string Value(std::string_view v, const std::string& file, int line) {
  if (v.empty()) Refuse(file, line, "no value after '='");
  if (v.front() == '"') return BasicString(v, file, line);
  if (v.front() == '\'') {
    const size_t close = v.find('\'', 1);
    if (close == std::string_view::npos) Refuse(file, line, "a quoted value without its closing quote");
    if (!OnlyComment(v.substr(close + 1))) Refuse(file, line, "text after the closing quote");
    return std::string(v.substr(1, close - 1));
  }
  if (v.front() == '[' || v.front() == '{') {
    Refuse(file, line, "arrays and tables are not values here: every option takes one value");
  }
  // Bare (INI style): a comment starts at a # or ; after a blank.
  for (size_t i = 1; i < v.size(); ++i) {
    if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t')) return std::string(Trim(v.substr(0, i)));
  }
  return std::string(v);
}

std::vector<CLI::App*> Subcommands(CLI::App* app) {
  return app->get_subcommands(std::function<bool(CLI::App*)>([](CLI::App* s) { return !s->get_name().empty(); }));
}

CLI::App* FindSubcommand(CLI::App* app, const std::string& name) {
  for (CLI::App* s : Subcommands(app)) {
    if (s->get_name() == name) return s;
  }
  return nullptr;
}

// The option `--key` of `app` if a file may set it (not --help, --version
// or --config itself).
CLI::Option* SettableOption(CLI::App* app, const std::string& key) {
  CLI::Option* o = app->get_option_no_throw("--" + key);
  if (o == nullptr || !o->get_configurable() || o->get_positional() || o == app->get_help_ptr() ||
      o == app->get_help_all_ptr() || o == app->get_version_ptr()) {
    return nullptr;
  }
  return o;
}

bool AnyCommandHas(CLI::App* app, const std::string& key) {
  if (SettableOption(app, key) != nullptr) return true;
  for (CLI::App* s : Subcommands(app)) {
    if (AnyCommandHas(s, key)) return true;
  }
  return false;
}

std::string SectionName(const std::vector<std::string>& command) {
  std::string out;
  for (const std::string& part : command) out += (out.empty() ? "" : ".") + part;
  return out;
}

// The value `setting` gives `option`, unless a flag or a variable gave one.
void Apply(CLI::Option* option, const ConfigSetting& setting, const std::string& file) {
  if (option->count() > 0) return;  // given on the command line
  const std::string env = option->get_envname();
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v != nullptr && *v != '\0') return;  // CLI11 ignores empty variables, so does the file
  }
  try {
    if (option->get_expected_min() == 0) {
      option->add_result(option->get_flag_value(setting.key, setting.value));
    } else {
      option->add_result(setting.value);
    }
    option->run_callback();  // validates now, so that the error can name the line
  } catch (const CLI::Error& e) {
    Refuse(file, setting.line,
           IsSecretName(setting.key) ? fmt::format("{}: the value is refused", setting.key)
                                     : fmt::format("{}: {}", setting.key, e.what()));
  }
}

// Reads --config through ParseConfigText and ApplyConfigSettings when CLI11
// processes the config file: after the command line, before the variables
// (which skip options that have a value), so the variables are consulted
// here instead.
class ConfigFileReader : public CLI::Config {
 public:
  explicit ConfigFileReader(CLI::App* root) : root_(root) {}
  std::string to_config(const CLI::App* /*app*/, bool /*default_also*/, bool /*write_description*/,
                        std::string /*prefix*/) const override {
    return {};
  }
  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
    const auto files = root_->get_config_ptr()->as<std::vector<std::string>>();
    if (files.size() != 1) throw CLI::ConfigError("--config: one settings file at most");
    ApplyConfigSettings(*root_, ParseConfigText(in, files.front()), files.front());
    return {};
  }

 private:
  CLI::App* root_;
};

}  // namespace

std::vector<ConfigSetting> ParseConfigText(std::istream& in, const std::string& file) {
  std::vector<ConfigSetting> out;
  std::vector<std::string> section;
  std::map<std::string, int> seen;  // "section.key" -> line
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (n == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte order mark
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const std::string_view line = Trim(text);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (line.size() > 1 && line[1] == '[') Refuse(file, n, "arrays of tables ([[...]]) are not supported");
      if (close == std::string_view::npos || !OnlyComment(line.substr(close + 1))) {
        Refuse(file, n, "expected a section header [command]");
      }
      section = DottedName(Trim(line.substr(1, close - 1)));
      if (section.empty()) Refuse(file, n, "a section is a command name, e.g. [run] or [bench.kafka]");
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) Refuse(file, n, "expected key = value");
    std::vector<std::string> name = DottedName(Trim(line.substr(0, eq)));
    if (name.empty()) Refuse(file, n, fmt::format("\"{}\" is not an option name", Trim(line.substr(0, eq))));
    ConfigSetting s;
    s.line = n;
    s.key = name.back();
    s.command = section;
    s.command.insert(s.command.end(), name.begin(), name.end() - 1);
    s.value = Value(Trim(line.substr(eq + 1)), file, n);
    const std::string full = SectionName(s.command) + "." + s.key;
    if (auto [it, inserted] = seen.emplace(full, n); !inserted) {
      Refuse(file, n, fmt::format("{} is set twice (first on line {})", s.key, it->second));
    }
    out.push_back(std::move(s));
  }
  return out;
}

void ApplyConfigSettings(CLI::App& root, const std::vector<ConfigSetting>& settings, const std::string& file) {
  // The commands being run: root, its parsed subcommand, that one's, ...
  std::vector<CLI::App*> chain{&root};
  while (!chain.back()->get_subcommands().empty()) chain.push_back(chain.back()->get_subcommands().front());

  // Per option, the setting that gives its value: a section's beats a top-level key's.
  std::map<CLI::Option*, const ConfigSetting*> chosen;
  for (const ConfigSetting& s : settings) {
    if (s.command.empty()) {
      if (!AnyCommandHas(&root, s.key))
        Refuse(file, s.line, fmt::format("unknown key {}: no command has --{}", s.key, s.key));
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {  // the most specific command that has it
        if (CLI::Option* o = SettableOption(*it, s.key)) {
          chosen.emplace(o, &s);  // a section's setting, if any, stays
          break;
        }
      }
      continue;
    }
    CLI::App* command = &root;
    for (const std::string& part : s.command) {
      command = FindSubcommand(command, part);
      if (command == nullptr) Refuse(file, s.line, fmt::format("[{}] is not a command", SectionName(s.command)));
    }
    CLI::Option* o = SettableOption(command, s.key);
    if (o == nullptr) {
      Refuse(file, s.line,
             fmt::format("unknown key {} in [{}]: {} has no --{}", s.key, SectionName(s.command),
                         SectionName(s.command), s.key));
    }
    if (std::find(chain.begin(), chain.end(), command) != chain.end()) chosen[o] = &s;
  }
  for (const auto& [option, setting] : chosen) Apply(option, *setting, file);
}

void AddConfigOption(CLI::App& root) {
  // CLI11 reads the file only when the option has a value by the time it
  // looks, before the variables: SAGAFLOW_CONFIG is its default, and then
  // required, so that a missing file is an error rather than skipped.
  const char* env = std::getenv("SAGAFLOW_CONFIG");
  const bool from_env = env != nullptr && *env != '\0';
  root.config_formatter(std::make_shared<ConfigFileReader>(&root));
  root.set_config("--config", from_env ? env : "",
                  "Settings file (TOML or INI): top-level keys for every command that has the option, [command] "
                  "sections for one; flags and SAGAFLOW_* variables override it (docs/configuration.md)",
                  from_env)
      ->envname("SAGAFLOW_CONFIG");
}

}  // namespace sagaflow::cli
