#include "sinks/clickhouse/clickhouse_sink.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "sinks/clickhouse/rollups.h"
#include "sinks/clickhouse/sql.h"

namespace sagaflow::sinks::clickhouse {

namespace {

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

bool Contains(const std::vector<uint64_t>& sorted, uint64_t v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

}  // namespace

Result<std::unique_ptr<ClickHouseSink>> ClickHouseSink::Open(const ClickHouseConfig& config) {
  auto client = ClickHouseClient::Create(config);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ClickHouseSink>(new ClickHouseSink(std::move(*client)));
}

ClickHouseSink::ClickHouseSink(std::unique_ptr<ClickHouseClient> client)
    : client_(std::move(client)), retrier_(client_->config().retry, client_->config().Describe(), &stop_) {}

ClickHouseSink::~ClickHouseSink() {
  const RetryStats& s = retrier_.stats();
  if (s.retries.load() > 0) {
    spdlog::info("{}: {} retries over {} interrupted operations ({:.1f} s waiting), {} given up", Describe(),
                 s.retries.load(), s.outages.load(), s.waited_ms.load() / 1000.0, s.gave_up.load());
  }
}

uint64_t ClickHouseSink::requests() const {
  uint64_t n = client_->stats().requests.load();
  if (rollup_client_) n += rollup_client_->stats().requests.load();
  return n;
}

Result<std::string> ClickHouseSink::Select(ClickHouseClient& client, std::string_view what, const std::string& sql) {
  Result<std::string> out = Status::Internal("unset");
  SAGAFLOW_RETURN_IF_ERROR(retrier_.Run(what, [&] {
    out = client.Query(sql);
    stats_.SetUp(out.ok() || out.status().code() != Status::Code::kUnavailable);
    return out.ok() ? Status::Ok() : out.status();
  }));
  return out;
}

Status ClickHouseSink::InsertRows(ClickHouseClient& client, const char* table, const char* columns,
                                  const std::string& rows) {
  if (rows.empty()) return Status::Ok();
  const std::string sql = fmt::format("INSERT INTO {} ({}) FORMAT TabSeparated", table, columns);
  ClickHouseClient::Settings settings;
  if (features_.insert_deduplication_token) {
    // Deterministic: a retry of the same rows carries the same token.
    settings.emplace_back("insert_deduplication_token",
                          fmt::format("sagaflow-{}-{:016x}-{}", table, sources::Fnv1a64(rows), rows.size()));
  }
  const auto& tables = stats_.tables();
  const size_t t = static_cast<size_t>(std::find(tables.begin(), tables.end(), table) - tables.begin());
  return retrier_
      .Run(fmt::format("insert into {}", table),
           [&] {
             const auto start = std::chrono::steady_clock::now();
             Status st = client.Insert(sql, rows, settings);
             if (t < tables.size()) {
               stats_.insert_seconds(t).Observe(
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
             }
             stats_.SetUp(st.code() != Status::Code::kUnavailable);
             return st;
           })
      .WithContext(fmt::format("insert into {}", table));
}

Status ClickHouseSink::Prepare(const pipeline::Dimensions& dims) {
  Result<ClickHouseClient::Settings> cluster = Status::Internal("unset");
  SAGAFLOW_RETURN_IF_ERROR(retrier_.Run("read the cluster", [&] {
    cluster = ClusterWriteSettings(*client_);
    return cluster.ok() ? Status::Ok() : cluster.status();
  }));
  client_->SetRequestSettings(*cluster);
  auto rollup_client = ClickHouseClient::Create(client_->config());
  if (!rollup_client.ok()) return rollup_client.status();
  rollup_client_ = std::move(*rollup_client);
  rollup_client_->SetRequestSettings(*cluster);
  SAGAFLOW_RETURN_IF_ERROR(Migrate(*client_, retrier_));
  SAGAFLOW_RETURN_IF_ERROR(retrier_.Run("check the tables' layout", [&] { return CheckLayout(*client_); }));
  Result<ServerFeatures> features = Status::Internal("unset");
  SAGAFLOW_RETURN_IF_ERROR(retrier_.Run("detect server features", [&] {
    features = DetectFeatures(*client_);
    return features.ok() ? Status::Ok() : features.status();
  }));
  features_ = *features;
  // Optional: without it the tokens are ignored, and the schema's collapse
  // still keeps results exact.
  Status dedup =
      retrier_.Run("enable insert deduplication", [&] { return EnableInsertDeduplication(*client_, features_); });
  if (!dedup.ok()) spdlog::warn("{}: insert deduplication stays off: {}", Describe(), dedup.ToString());
  SAGAFLOW_RETURN_IF_ERROR(UpsertDimensions(dims));
  prepared_ = true;
  return Status::Ok();
}

Status ClickHouseSink::UpsertDimensions(const pipeline::Dimensions& dims) {
  // Sagas: insert the missing ones; an id held by another name is corruption.
  auto body = Select("read dim_saga", "SELECT saga_id, name FROM dim_saga FORMAT TabSeparated");
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 2);
  if (!rows.ok()) return rows.status();
  // Every stored name of an id: until merges run, a conflicting row sits
  // beside the original, in no particular order.
  std::unordered_map<uint64_t, std::vector<std::string>> sagas;
  for (auto& r : *rows) {
    auto id = ParseUint(r[0], "dim_saga.saga_id");
    if (!id.ok()) return id.status();
    sagas[*id].push_back(std::move(r[1]));
  }
  std::string insert;
  saga_ids_.clear();
  for (const auto& s : dims.sagas) {
    const uint64_t id = static_cast<uint64_t>(s.id);
    auto it = sagas.find(id);
    if (it != sagas.end()) {
      for (const std::string& name : it->second) {
        if (name != s.name) {
          return Status::Corruption(
              fmt::format("dim_saga: id {} of saga \"{}\" is taken by \"{}\"", s.id, s.name, name));
        }
      }
    }
    if (it == sagas.end()) {
      TsvRows(&insert).Uint(id).Text(s.name).EndRow();
    }
    saga_ids_.push_back(id);
  }
  SAGAFLOW_RETURN_IF_ERROR(InsertRows(*client_, "dim_saga", "saga_id, name", insert));

  // Entities: insert the missing ones, a new version where the kind changed.
  body = Select("read dim_entity",
                "SELECT entity_id, argMax(name, version), argMax(saga_id, version), argMax(kind, version), "
                "max(version) FROM dim_entity GROUP BY entity_id FORMAT TabSeparated");
  if (!body.ok()) return body.status();
  rows = ParseTsv(*body, 5);
  if (!rows.ok()) return rows.status();
  struct Stored {
    std::string name, kind;
    uint64_t saga_id = 0, version = 0;
  };
  std::unordered_map<uint64_t, Stored> entities;
  for (auto& r : *rows) {
    auto id = ParseUint(r[0], "dim_entity.entity_id");
    auto saga = ParseUint(r[2], "dim_entity.saga_id");
    auto version = ParseUint(r[4], "dim_entity.version");
    if (!id.ok() || !saga.ok() || !version.ok()) return Status::Corruption("dim_entity: unreadable row");
    entities.emplace(*id, Stored{std::move(r[1]), std::move(r[3]), *saga, *version});
  }
  const uint64_t now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  insert.clear();
  entity_ids_.clear();
  for (const auto& e : dims.entities) {
    const uint64_t id = static_cast<uint64_t>(e.id);
    uint64_t version = now_ms;
    auto it = entities.find(id);
    if (it != entities.end()) {
      if (it->second.name != e.name || it->second.saga_id != static_cast<uint64_t>(e.saga_id)) {
        return Status::Corruption(
            fmt::format("dim_entity: id {} of entity \"{}\" is taken by another entity", e.id, e.name));
      }
      version = std::max(now_ms, it->second.version + 1);
    }
    if (it == entities.end() || it->second.kind != e.kind) {
      TsvRows(&insert).Uint(id).Text(e.name).Uint(static_cast<uint64_t>(e.saga_id)).Text(e.kind).Uint(version).EndRow();
    }
    entity_ids_.push_back(id);
  }
  return InsertRows(*client_, "dim_entity", "entity_id, name, saga_id, kind, version", insert);
}

Result<std::optional<sources::Checkpoint>> ClickHouseSink::LoadCheckpoint(std::string_view stream_key) {
  if (!prepared_) return Status::Internal("ClickHouseSink::LoadCheckpoint before Prepare");
  // A source (re)starting the stream resumes at the stored checkpoint: check
  // its next batches for records stored past it.
  new_from_.erase(std::string(stream_key));
  auto body = Select("load checkpoint",
                     fmt::format("SELECT position, line, digest FROM source WHERE source_id = {} AND stream_key = {} "
                                 "ORDER BY position DESC, updated_at DESC LIMIT 1 FORMAT TabSeparated",
                                 pipeline::SourceId(stream_key), QuoteString(stream_key)));
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 3);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<sources::Checkpoint>();
  const auto& r = rows->front();
  auto position = ParseUint(r[0], "source.position");
  auto line = ParseUint(r[1], "source.line");
  auto digest = ParseUint(r[2], "source.digest");
  if (!position.ok() || !line.ok() || !digest.ok()) return Status::Corruption("source: unreadable checkpoint");
  return std::optional<sources::Checkpoint>(sources::Checkpoint{*position, *line, *digest});
}

Result<int64_t> ClickHouseSink::FirstSeen(const pipeline::StreamCheckpoint& stream, uint64_t source_id) {
  auto it = first_seen_.find(stream.key);
  if (it != first_seen_.end()) return it->second;
  auto body =
      Select("read source",
             fmt::format("SELECT count(), min(first_seen_at) FROM source WHERE source_id = {} FORMAT TabSeparated",
                         source_id));
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 2);
  if (!rows.ok()) return rows.status();
  int64_t first = Now();
  if (rows->size() == 1 && (*rows)[0][0] != "0") {
    auto stored = ParseInt((*rows)[0][1], "source.first_seen_at");
    if (!stored.ok()) return stored.status();
    first = *stored;
  }
  first_seen_.emplace(stream.key, first);
  return first;
}

Status ClickHouseSink::StoredPositions(const pipeline::Batch& batch, const std::vector<uint64_t>& source_ids,
                                       std::vector<std::vector<uint64_t>>* events,
                                       std::vector<std::vector<uint64_t>>* dead) {
  const size_t n = batch.streams.size();
  events->assign(n, {});
  dead->assign(n, {});
  // The position range of each stream's records, per table.
  struct Range {
    uint64_t lo = UINT64_MAX, hi = 0;
    void Add(uint64_t p) { lo = std::min(lo, p), hi = std::max(hi, p); }
  };
  std::vector<Range> event_ranges(n), dead_ranges(n);
  for (const auto& e : batch.events) event_ranges[e.stream].Add(e.position);
  for (const auto& d : batch.dead_letters) dead_ranges[d.stream].Add(d.position);
  std::vector<uint64_t> lo(n);
  std::vector<bool> check(n, true);
  for (size_t s = 0; s < n; ++s) {
    lo[s] = std::min(event_ranges[s].lo, dead_ranges[s].lo);
    auto it = new_from_.find(batch.streams[s].key);
    if (it != new_from_.end() && lo[s] >= it->second) {
      check[s] = false;  // all new
      event_ranges[s] = dead_ranges[s] = Range();
    }
  }
  auto condition = [&](const std::vector<Range>& ranges) {
    std::string where;
    for (size_t s = 0; s < n; ++s) {
      if (ranges[s].lo > ranges[s].hi) continue;
      where += fmt::format("{}(source_id = {} AND position >= {} AND position <= {})", where.empty() ? "" : " OR ",
                           source_ids[s], ranges[s].lo, ranges[s].hi);
    }
    return where;
  };
  std::string sql;
  if (std::string w = condition(event_ranges); !w.empty()) {
    sql = "SELECT 0, source_id, position FROM fact_event WHERE " + w;
  }
  if (std::string w = condition(dead_ranges); !w.empty()) {
    sql += (sql.empty() ? "" : " UNION ALL ") + ("SELECT 1, source_id, position FROM dead_letter WHERE " + w);
  }
  if (sql.empty()) return Status::Ok();
  auto body = Select("check stored positions", sql + " FORMAT TabSeparated");
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 3);
  if (!rows.ok()) return rows.status();
  for (const auto& r : *rows) {
    auto source = ParseUint(r[1], "source_id");
    auto position = ParseUint(r[2], "position");
    if (!source.ok() || !position.ok()) return Status::Corruption("unreadable stored position");
    for (size_t s = 0; s < n; ++s) {
      if (source_ids[s] == *source) (r[0] == "0" ? (*events)[s] : (*dead)[s]).push_back(*position);
    }
  }
  for (auto* v : {events, dead}) {
    for (auto& positions : *v) std::sort(positions.begin(), positions.end());
  }
  for (size_t s = 0; s < n; ++s) {
    // None of this batch's records was stored: neither is anything after it.
    if (check[s] && lo[s] != UINT64_MAX && (*events)[s].empty() && (*dead)[s].empty()) {
      new_from_[batch.streams[s].key] = lo[s];
    }
  }
  return Status::Ok();
}

Status ClickHouseSink::WriteRollups(const pipeline::Batch& batch, const std::vector<uint64_t>& source_ids) {
  auto rows = RollupRows({&batch, &source_ids, &saga_ids_, &entity_ids_}, &known_,
                         [&](const std::string& sql) { return Select(*rollup_client_, "read rollups", sql); });
  if (!rows.ok()) return rows.status();
  return InsertRows(*rollup_client_, kRollupTable, kRollupColumns, *rows);
}

Result<pipeline::WriteReport> ClickHouseSink::Write(const pipeline::Batch& batch) {
  if (!prepared_) return Status::Internal("ClickHouseSink::Write before Prepare");
  auto report = WriteBatch(batch);
  if (report.ok()) {
    known_.Commit();
  } else {
    // Part of a failed batch may have landed: check everything again.
    new_from_.clear();
    known_.Clear();
  }
  return report;
}

Result<pipeline::WriteReport> ClickHouseSink::WriteBatch(const pipeline::Batch& batch) {
  pipeline::WriteReport report;
  std::vector<uint64_t> source_ids;
  for (const auto& s : batch.streams) source_ids.push_back(static_cast<uint64_t>(pipeline::SourceId(s.key)));
  // The rollups on rollup_client_ while the facts are checked, built and
  // inserted on client_: neither depends on the other (rollups skip what
  // is stored by their prefixes, not by the facts' pre-check), only the
  // checkpoints must follow both. Rollups are prefixes, so any repetition
  // of them is harmless (rollups.h). Joined on every way out.
  Status rollups;
  std::jthread rollup_writer([&] { rollups = WriteRollups(batch, source_ids); });
  std::vector<std::vector<uint64_t>> stored_events, stored_dead;
  SAGAFLOW_RETURN_IF_ERROR(StoredPositions(batch, source_ids, &stored_events, &stored_dead));

  std::string mentions, events, dead_letters, checkpoints;
  for (const pipeline::EventRow& e : batch.events) {
    if (Contains(stored_events[e.stream], e.position)) {
      ++report.duplicates;
      continue;
    }
    ++report.events;
    const uint64_t source_id = source_ids[e.stream];
    const uint64_t saga_id = e.saga >= 0 ? saga_ids_[static_cast<size_t>(e.saga)] : 0;
    // fact_event: source_id, position, line, article_id, saga_id, readers, time, status
    TsvRows(&events)
        .Uint(source_id)
        .Uint(e.position)
        .Uint(e.line)
        .Text(e.article_id)
        .Uint(saga_id)
        .Int(e.readers)
        .Int(e.time)
        .Text(pipeline::EventStatusName(e.status))
        .EndRow();
    for (uint32_t i = 0; i < e.mention_count; ++i) {
      const pipeline::MentionRow& m = batch.mentions[e.first_mention + i];
      // fact_readers: saga_id, entity_id, time, source_id, position, mentions, readers
      TsvRows(&mentions)
          .Uint(saga_id)
          .Uint(entity_ids_[m.entity])
          .Int(e.time)
          .Uint(source_id)
          .Uint(e.position)
          .Uint(m.count)
          .Int(e.readers)
          .EndRow();
      ++report.mentions;
    }
  }
  const int64_t now = Now();
  for (const pipeline::DeadLetterRow& d : batch.dead_letters) {
    if (Contains(stored_dead[d.stream], d.position)) {
      ++report.duplicates;
      continue;
    }
    ++report.dead_letters;
    // dead_letter: source_id, position, line, reason, detail, excerpt, payload_bytes, received_at
    TsvRows(&dead_letters)
        .Uint(source_ids[d.stream])
        .Uint(d.position)
        .Uint(d.line)
        .Text(events::RejectReasonName(d.reason))
        .Text(d.detail)
        .Text(d.excerpt)
        .Uint(d.payload_bytes)
        .Int(now)
        .EndRow();
  }
  for (size_t i = 0; i < batch.streams.size(); ++i) {
    const pipeline::StreamCheckpoint& s = batch.streams[i];
    auto first_seen = FirstSeen(s, source_ids[i]);
    if (!first_seen.ok()) return first_seen.status();
    // source: source_id, stream_key, description, position, line, digest, first_seen_at, updated_at
    TsvRows(&checkpoints)
        .Uint(source_ids[i])
        .Text(s.key)
        .Text(s.description)
        .Uint(s.checkpoint.position)
        .Uint(s.checkpoint.line)
        .Uint(s.checkpoint.digest)
        .Int(*first_seen)
        .Int(now)
        .EndRow();
  }

  // Mentions before their events: an event found stored by the pre-check
  // always has its mentions stored (see the header). Checkpoints last.
  Status facts = [&]() -> Status {
    SAGAFLOW_RETURN_IF_ERROR(InsertRows(*client_, "fact_readers",
                                        "saga_id, entity_id, time, source_id, position, mentions, readers", mentions));
    SAGAFLOW_RETURN_IF_ERROR(InsertRows(
        *client_, "fact_event", "source_id, position, line, article_id, saga_id, readers, time, status", events));
    return InsertRows(*client_, "dead_letter",
                      "source_id, position, line, reason, detail, excerpt, payload_bytes, received_at", dead_letters);
  }();
  rollup_writer.join();
  SAGAFLOW_RETURN_IF_ERROR(facts);
  SAGAFLOW_RETURN_IF_ERROR(rollups);
  SAGAFLOW_RETURN_IF_ERROR(
      InsertRows(*client_, "source",
                 "source_id, stream_key, description, position, line, digest, first_seen_at, updated_at", checkpoints));
  for (const auto& s : batch.streams) {
    // The checkpoint is the stream's last record in the batch.
    auto it = new_from_.find(s.key);
    if (it != new_from_.end()) it->second = std::max(it->second, s.checkpoint.position + 1);
  }
  return report;
}

}  // namespace sagaflow::sinks::clickhouse
