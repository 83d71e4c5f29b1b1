// The dimensions of the star schema and their stable ids.
//
// Ids are derived from names, never drawn at random, so that every run, every
// machine and every store (SQLite, ClickHouse) gives the same row the same id:
//   saga_id   = StableId("saga/" + name)
//   entity_id = StableId("entity/" + saga_scope + "/" + name)   (scope "" = unscoped)
//   source_id = StableId("source/" + stream_key)
// where StableId is the 64-bit FNV-1a digest of the UTF-8 bytes with the top
// bit cleared (a positive signed 64-bit integer). docs/schema.md has a Python
// one-liner that reproduces them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sagaflow::text {
class EntityDictionary;
}

namespace sagaflow::pipeline {

int64_t StableId(std::string_view key) noexcept;
int64_t SagaId(std::string_view saga) noexcept;
int64_t EntityId(std::string_view saga_scope, std::string_view name) noexcept;
int64_t SourceId(std::string_view stream_key) noexcept;

struct SagaDim {
  int64_t id = 0;
  std::string name;
};

struct EntityDim {
  int64_t id = 0;
  std::string name;     // canonical name
  std::string saga;     // scope: "" = mentioned in any saga
  int64_t saga_id = 0;  // 0 when unscoped
  std::string kind;
};

// Sagas are the model's labels (in label order) plus any saga an entity is
// scoped to; entities are the dictionary's, in dictionary order (index i is
// the matcher's entity i).
struct Dimensions {
  std::vector<SagaDim> sagas;
  std::vector<EntityDim> entities;  // distinct (scope, name) pairs
  // For each entity given to Build() (the matcher's index), its row in
  // `entities`: a dictionary listing the same entity twice maps both to one row.
  std::vector<uint32_t> entity_row;
  bool has_duplicate_entities = false;

  // Fails on a saga name with '/' or an id collision (two names, one id).
  static Result<Dimensions> Build(const std::vector<std::string>& labels, const std::vector<EntityDim>& entities);
  // Index in `sagas` of a name, or -1.
  int FindSaga(std::string_view name) const noexcept;
};

// The dictionary's entities as dimension rows (ids filled in).
std::vector<EntityDim> EntityDims(const text::EntityDictionary& dictionary);

}  // namespace sagaflow::pipeline
