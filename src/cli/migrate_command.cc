// `sagaflow migrate`: brings a store's schema to this binary's version and,
// given the model and dictionary, upserts the dimensions (dim_saga,
// dim_entity), then exits. What `run` does before its first batch, as a
// separate step for deployments that migrate once before consumers start
// (a Kubernetes Job, a compose one-shot service). Idempotent: migrations
// only add, and a store already at the latest version is left as it is.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"
#include "pipeline/analysis_model.h"
#include "pipeline/store_uri.h"

namespace sagaflow::cli {
namespace {

struct MigrateOptions {
  std::string store;
  pipeline::StoreCredentials store_login;
  std::string model;     // optional: with `entities`, the dimensions are upserted too
  std::string entities;  // used only with `model`
};

int RunMigrate(const MigrateOptions& o) {
  // The sagas are the model's labels: without a model there are no
  // dimensions to upsert (a default --entities from the environment, as in
  // the container image, is then not used).
  if (!o.model.empty() && o.entities.empty()) {
    spdlog::error(
        "migrate: --model needs --entities (the dimensions are the model's sagas and the dictionary's entities)");
    return kExitUsage;
  }
  pipeline::Dimensions dimensions;
  if (o.model.empty()) {
    spdlog::info("migrate: no --model: the schema only (run upserts the dimensions when it starts)");
  } else {
    auto model = pipeline::AnalysisModel::Load(o.model, o.entities);
    if (!model.ok()) {
      spdlog::error("migrate: {}", model.status().ToString());
      return kExitFailure;
    }
    dimensions = (*model)->dimensions;
  }
  auto sink = pipeline::OpenSink(o.store, o.store_login);
  if (!sink.ok()) {
    spdlog::error("migrate: {}", sink.status().ToString());
    return OpenFailureStatus(sink.status());
  }
  if (Status st = (*sink)->Prepare(dimensions); !st.ok()) {
    spdlog::error("migrate: {}: {}", (*sink)->Describe(), st.ToString());
    return kExitFailure;
  }
  std::printf("%s: schema up to date; %zu sagas and %zu entities upserted\n", (*sink)->Describe().c_str(),
              dimensions.sagas.size(), dimensions.entities.size());
  return 0;
}

}  // namespace

void AddMigrateCommand(CLI::App& app) {
  auto o = std::make_shared<MigrateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "migrate", "Bring a store's schema up to date (and upsert the dimensions), then exit: as `run` does first");
  AddStoreOptions(cmd, &o->store, &o->store_login,
                  "Store: sqlite:PATH or clickhouse://HOST:8123/DB (created if missing)");
  cmd->add_option("--model", o->model, "Model JSON: its labels are the sagas (with --entities)")
      ->envname("SAGAFLOW_MODEL");
  cmd->add_option("--entities", o->entities, "Entity dictionary (used with --model)")->envname("SAGAFLOW_ENTITIES");
  cmd->callback([o] { SetExitStatus(RunMigrate(*o)); });
}

}  // namespace sagaflow::cli
