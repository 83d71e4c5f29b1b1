#include "pipeline/dimensions.h"

#include <fmt/format.h>

#include <unordered_map>

#include "sources/source.h"
#include "text/entity_dictionary.h"

namespace sagaflow::pipeline {

int64_t StableId(std::string_view key) noexcept {
  return static_cast<int64_t>(sources::Fnv1a64(key) & 0x7FFFFFFFFFFFFFFFULL);
}

int64_t SagaId(std::string_view saga) noexcept { return StableId(fmt::format("saga/{}", saga)); }

int64_t EntityId(std::string_view saga_scope, std::string_view name) noexcept {
  return StableId(fmt::format("entity/{}/{}", saga_scope, name));
}

int64_t SourceId(std::string_view stream_key) noexcept { return StableId(fmt::format("source/{}", stream_key)); }

int Dimensions::FindSaga(std::string_view name) const noexcept {
  for (size_t i = 0; i < sagas.size(); ++i) {
    if (sagas[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<Dimensions> Dimensions::Build(const std::vector<std::string>& labels, const std::vector<EntityDim>& entities) {
  Dimensions d;
  auto add_saga = [&](const std::string& name) -> Status {
    if (name.empty() || name.find('/') != std::string::npos) {
      return Status::InvalidArgument(fmt::format("invalid saga name \"{}\" (empty or containing '/')", name));
    }
    if (d.FindSaga(name) < 0) d.sagas.push_back({SagaId(name), name});
    return Status::Ok();
  };
  for (const auto& l : labels) SAGAFLOW_RETURN_IF_ERROR(add_saga(l));
  for (const auto& e : entities) {
    if (!e.saga.empty()) SAGAFLOW_RETURN_IF_ERROR(add_saga(e.saga));
  }
  struct Seen {
    std::string what;
    uint32_t row;
  };
  std::unordered_map<int64_t, Seen> seen;
  for (const auto& s : d.sagas) seen.emplace(s.id, Seen{"saga " + s.name, 0});
  for (const auto& e : entities) {
    EntityDim row = e;
    row.id = EntityId(e.saga, e.name);
    row.saga_id = e.saga.empty() ? 0 : SagaId(e.saga);
    std::string what = fmt::format("entity {}/{}", e.saga, e.name);
    auto [it, inserted] = seen.emplace(row.id, Seen{what, static_cast<uint32_t>(d.entities.size())});
    if (!inserted) {
      if (it->second.what != what) {
        return Status::InvalidArgument(
            fmt::format("id collision between {} and {}: rename one", it->second.what, what));
      }
      d.entity_row.push_back(it->second.row);
      d.has_duplicate_entities = true;
      continue;
    }
    d.entity_row.push_back(static_cast<uint32_t>(d.entities.size()));
    d.entities.push_back(std::move(row));
  }
  return d;
}

std::vector<EntityDim> EntityDims(const text::EntityDictionary& dictionary) {
  std::vector<EntityDim> out;
  out.reserve(dictionary.entities().size());
  for (const auto& e : dictionary.entities()) {
    EntityDim d;
    d.name = e.name;
    d.saga = e.saga;
    d.kind = e.kind;
    d.id = EntityId(e.saga, e.name);
    d.saga_id = e.saga.empty() ? 0 : SagaId(e.saga);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace sagaflow::pipeline
