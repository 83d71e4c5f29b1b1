// `sagaflow validate`: checks a deployment's settings (flags, SAGAFLOW_*
// variables, --config) without consuming, writing or creating anything, and
// prints a checklist, one line per check: ok, FAIL or skip, and what was
// found. Exit status: 0 every check passed or was skipped, 1 one failed,
// 2 the command line (or the settings file) is wrong, or names nothing to
// check. compose and Kubernetes run it before the consumers start.
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/validate_checks.h"
#include "pipeline/analysis_model.h"
#include "text/classifier.h"
#include "text/entity_dictionary.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

using State = Check::State;

struct ValidateOptions {
  std::string model;
  std::string entities;
  std::string store;
  pipeline::StoreCredentials store_login;
  std::string source;
  std::string kafka_config;
  double timeout = 10;  // seconds, per network check
  bool json = false;
};

void CheckAnalysis(const ValidateOptions& o, std::vector<Check>* out) {
  bool loaded = true;
  if (o.model.empty()) {
    out->push_back({"model", State::kSkip, "no --model"});
  } else if (auto c = text::Classifier::LoadFile(o.model); !c.ok()) {
    out->push_back({"model", State::kFail, c.status().message()});
    loaded = false;
  } else {
    std::string labels;
    for (const std::string& l : c->labels()) labels += (labels.empty() ? "" : ", ") + l;
    out->push_back(
        {"model", State::kOk,
         fmt::format("{}: labels {}; {} features", o.model, labels.empty() ? "none" : labels, c->num_features())});
    loaded = !c->labels().empty();
  }
  if (o.entities.empty()) {
    out->push_back({"entities", State::kSkip, "no --entities"});
  } else if (auto d = text::EntityDictionary::LoadFile(o.entities); !d.ok()) {
    out->push_back({"entities", State::kFail, d.status().message()});
    loaded = false;
  } else {
    out->push_back({"entities", State::kOk, fmt::format("{}: {} entities", o.entities, d->entities().size())});
  }
  // Together, as run loads them: the matcher and the dimensions build.
  if (!o.model.empty() && !o.entities.empty() && loaded) {
    auto both = pipeline::AnalysisModel::Load(o.model, o.entities);
    out->push_back(both.ok() ? Check{"analysis", State::kOk,
                                     fmt::format("{} sagas, {} entities in the dimensions",
                                                 (*both)->dimensions.sagas.size(), (*both)->dimensions.entities.size())}
                             : Check{"analysis", State::kFail, both.status().message()});
  }
}

std::string StateName(State s, bool json) {
  switch (s) {
    case State::kOk:
      return "ok";
    case State::kFail:
      return json ? "fail" : "FAIL";
    case State::kSkip:
      return "skip";
  }
  return "?";
}

void Print(const std::vector<Check>& checks, size_t failed, bool json) {
  std::string text;
  if (json) {
    JsonWriter w(&text);
    w.BeginObject();
    w.Key("ok");
    w.Bool(failed == 0);
    w.Key("checks");
    w.BeginArray();
    for (const Check& c : checks) {
      w.BeginObject();
      w.Key("check");
      w.String(c.name);
      w.Key("status");
      w.String(StateName(c.state, true));
      w.Key("detail");
      w.String(c.detail);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    text += '\n';
  } else {
    for (const Check& c : checks) text += fmt::format("{:<5} {:<17} {}\n", StateName(c.state, false), c.name, c.detail);
    text += failed == 0 ? fmt::format("validate: all {} checks passed or were skipped\n", checks.size())
                        : fmt::format("validate: {} of {} checks failed\n", failed, checks.size());
  }
  std::fputs(text.c_str(), stdout);
}

int RunValidate(const ValidateOptions& o, const CLI::App& root) {
  if (o.model.empty() && o.entities.empty() && o.store.empty() && o.source.empty()) {
    std::fputs("validate: nothing to check: give --model, --entities, --store or --source (or a --config file)\n",
               stderr);
    return kExitUsage;
  }
  std::vector<Check> checks;
  const std::string config = root.get_config_ptr() ? root.get_config_ptr()->as<std::string>() : "";
  checks.push_back(config.empty() ? Check{"config", State::kSkip, "no --config: flags, variables and defaults"}
                                  : Check{"config", State::kOk, fmt::format("{}: read", config)});
  CheckAnalysis(o, &checks);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout * 1000));
  if (o.store.empty()) {
    checks.push_back({"store", State::kSkip, "no --store"});
  } else {
    CheckStore(o.store, o.store_login, timeout, &checks);
  }
  if (o.source.empty()) {
    checks.push_back({"source", State::kSkip, "no --source"});
  } else {
    CheckSource(o.source, o.kafka_config, timeout, &checks);
  }
  size_t failed = 0;
  for (const Check& c : checks) failed += c.state == State::kFail ? 1 : 0;
  Print(checks, failed, o.json);
  return failed == 0 ? kExitSuccess : kExitFailure;
}

}  // namespace

void AddValidateCommand(CLI::App& app) {
  auto o = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Check the settings (model, dictionary, store, Kafka) without consuming or writing; print a checklist");
  cmd->add_option("--model", o->model, "Model JSON to load")->envname("SAGAFLOW_MODEL");
  cmd->add_option("--entities", o->entities, "Entity dictionary to load")->envname("SAGAFLOW_ENTITIES");
  cmd->add_option("--store", o->store, "Store: reachable, schema version, run's privileges (opened read-only)")
      ->envname("SAGAFLOW_STORE");
  cmd->add_option("--store-user", o->store_login.user, "ClickHouse user (default: the URI's, else \"default\")")
      ->envname("SAGAFLOW_CLICKHOUSE_USER");
  cmd->add_option("--store-password", o->store_login.password, "ClickHouse password (default: the URI's)")
      ->envname("SAGAFLOW_CLICKHOUSE_PASSWORD");
  cmd->add_option("--source", o->source,
                  "run's source: a file is readable; kafka://: bootstrap, authentication, topic, partitions")
      ->envname("SAGAFLOW_SOURCE");
  AddKafkaConfigOption(cmd, &o->kafka_config);
  cmd->add_option("--timeout", o->timeout, "Seconds each network check (store, Kafka) may take")
      ->envname("SAGAFLOW_VALIDATE_TIMEOUT")
      ->check(InRange(0.1, 600.0))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object instead of the checklist")->envname("SAGAFLOW_VALIDATE_JSON");
  const CLI::App* root = &app;
  cmd->callback([o, root] { SetExitStatus(RunValidate(*o, *root)); });
}

}  // namespace sagaflow::cli
