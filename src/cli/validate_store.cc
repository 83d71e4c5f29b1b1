// `sagaflow validate`: the store checks (validate_checks.h). SQLite is
// opened read-only and never created; every ClickHouse request is a SELECT,
// all but one with readonly=1 (that one reads the login's own readonly
// setting, which readonly=1 on the request would hide).
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "cli/validate_checks.h"
#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/clickhouse_config.h"
#include "sinks/clickhouse/migrations.h"
#include "sinks/sqlite/migrations.h"
#include "sinks/sqlite/sqlite_db.h"
#include "util/redact.h"

namespace sagaflow::cli {

namespace {

using State = Check::State;

// The schema check's line: this binary migrates an older schema (run does
// at start), but refuses a newer one.
Check SchemaCheck(int version, int latest) {
  if (version > latest) {
    return {"store schema", State::kFail,
            fmt::format("version {} is newer than this binary's {}: run this sagaflow's successor", version, latest)};
  }
  if (version == latest) return {"store schema", State::kOk, fmt::format("version {}, this binary's", version)};
  if (version == 0) return {"store schema", State::kOk, "none yet: migrate (or run at start) creates it"};
  return {"store schema", State::kOk,
          fmt::format("version {}: migrate (or run at start) brings it to {}", version, latest)};
}

void CheckSqlite(const std::string& path, std::vector<Check>* out) {
  namespace fs = std::filesystem;
  const fs::path file(path);
  const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (!fs::is_directory(dir, ec)) {
      out->push_back({"store", State::kFail, fmt::format("sqlite:{}: neither it nor its directory exists", path)});
      return;
    }
    out->push_back({"store", State::kOk, fmt::format("sqlite:{}: absent; migrate or run creates it", path)});
    out->push_back(SchemaCheck(0, sinks::sqlite::LatestSchemaVersion()));
    out->push_back(
        ::access(dir.c_str(), W_OK) == 0
            ? Check{"store privileges", State::kOk, fmt::format("{} is writable", dir.string())}
            : Check{"store privileges", State::kFail,
                    fmt::format("{} is not writable by this user: the store cannot be created", dir.string())});
    return;
  }
  auto db = sinks::sqlite::Db::Open(path, sinks::sqlite::Db::Mode::kReadOnly);
  Result<int> version = db.ok() ? sinks::sqlite::SchemaVersion(**db) : Result<int>(db.status());
  if (!version.ok()) {
    out->push_back({"store", State::kFail, fmt::format("sqlite:{}: {}", path, version.status().message())});
    return;
  }
  out->push_back({"store", State::kOk, fmt::format("sqlite:{}: opened read-only", path)});
  out->push_back(SchemaCheck(*version, sinks::sqlite::LatestSchemaVersion()));
  // The rollback journal or WAL lives beside the file: both must be writable.
  std::string refused;
  if (::access(path.c_str(), W_OK) != 0) refused = path;
  if (::access(dir.c_str(), W_OK) != 0) refused += (refused.empty() ? "" : " and ") + dir.string();
  out->push_back(refused.empty() ? Check{"store privileges", State::kOk, "the file and its directory are writable"}
                                 : Check{"store privileges", State::kFail,
                                         fmt::format("{} not writable by this user: run cannot store", refused)});
}

// name -> value of the login's settings `names` (a constant SELECT).
Result<std::map<std::string, std::string>> LoginSettings(sinks::clickhouse::ClickHouseClient& client) {
  auto rows = client.Query(
      "SELECT name, value FROM system.settings WHERE name IN ('readonly', 'allow_ddl') FORMAT TabSeparated", false);
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::string> settings;
  std::istringstream lines(*rows);
  for (std::string line; std::getline(lines, line);) {
    const size_t tab = line.find('\t');
    if (tab != std::string::npos) settings[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return settings;
}

void CheckClickHouse(const std::string& uri, const pipeline::StoreCredentials& login, std::chrono::milliseconds timeout,
                     std::vector<Check>* out) {
  namespace ch = sinks::clickhouse;
  auto config = ch::ParseClickHouseUri(uri, {login.user, login.password});
  if (!config.ok()) {
    out->push_back({"store", State::kFail, config.status().message()});
    return;
  }
  config->connect_timeout = timeout;
  config->timeout = timeout;
  ch::ClickHouseConfig guarded = *config;
  guarded.read_only = true;
  auto client = ch::ClickHouseClient::Create(guarded);
  Result<std::string> version = client.ok() ? (*client)->Query("SELECT version() FORMAT TabSeparated", false)
                                            : Result<std::string>(client.status());
  if (!version.ok()) {
    out->push_back({"store", State::kFail, fmt::format("{}: {}", config->Describe(), version.status().message())});
    return;
  }
  out->push_back({"store", State::kOk,
                  fmt::format("{}: ClickHouse {}", config->Describe(), version->substr(0, version->find('\n')))});

  auto schema = ch::SchemaVersion(**client);
  const int latest = ch::LatestSchemaVersion();
  if (schema.ok()) {
    out->push_back(SchemaCheck(*schema, latest));
  } else if (schema.status().code() == Status::Code::kNotFound) {
    out->push_back({"store schema", State::kOk, schema.status().message() + ": migrate (or run at start) creates it"});
  } else {
    out->push_back({"store schema", State::kFail, schema.status().message()});
  }

  auto unguarded = ch::ClickHouseClient::Create(*config);
  auto settings =
      unguarded.ok() ? LoginSettings(**unguarded) : Result<std::map<std::string, std::string>>(unguarded.status());
  if (!settings.ok()) {
    out->push_back({"store privileges", State::kFail, settings.status().message()});
    return;
  }
  const std::string readonly = (*settings)["readonly"], allow_ddl = (*settings)["allow_ddl"];
  const bool migrations_due = !schema.ok() || *schema < latest;
  if (readonly != "0") {
    out->push_back({"store privileges", State::kFail,
                    fmt::format("user {} has readonly={}: run cannot insert (a serve login? docs/clickhouse.md)",
                                config->user, readonly)});
  } else if (allow_ddl == "0" && migrations_due) {
    out->push_back({"store privileges", State::kFail,
                    fmt::format("user {} has allow_ddl=0 and migrations are due: run `sagaflow migrate` with a DDL "
                                "login first",
                                config->user)});
  } else {
    out->push_back({"store privileges", State::kOk,
                    fmt::format("user {}: readonly=0, allow_ddl={} (grants are checked by the first insert)",
                                config->user, allow_ddl)});
  }
}

}  // namespace

void CheckStore(const std::string& uri, const pipeline::StoreCredentials& login, std::chrono::milliseconds timeout,
                std::vector<Check>* out) {
  auto parsed = pipeline::ParseStoreUri(uri);
  if (!parsed.ok()) {
    out->push_back({"store", State::kFail, parsed.status().message()});
    return;
  }
  if (parsed->scheme == "sqlite") {
    CheckSqlite(parsed->path, out);
  } else {
    CheckClickHouse(uri, login, timeout, out);
  }
}

}  // namespace sagaflow::cli
