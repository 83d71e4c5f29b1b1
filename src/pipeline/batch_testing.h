// Hand-made batches for store tests (SQLite, ClickHouse): the rows the
// analyze step would produce, written down directly.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/sink.h"

namespace sagaflow::pipeline::testing {

// Appends an event at `position` of `stream`, classified into saga index
// `saga` (-1: an empty text), with mentions {entity index, count}. The
// article id defaults to "article-<position>"; the line is position + 1.
inline void AddEvent(Batch* b, uint32_t stream, uint64_t position, int saga, int64_t readers, int64_t time,
                     const std::vector<std::pair<uint32_t, uint32_t>>& mentions = {}, std::string id = "") {
  EventRow& e = b->events.emplace_back();
  e.stream = stream;
  e.position = position;
  e.line = position + 1;
  e.article_id = id.empty() ? "article-" + std::to_string(position) : std::move(id);
  e.saga = saga;
  e.readers = readers;
  e.time = time;
  e.status = saga < 0 ? EventStatus::kEmpty : EventStatus::kClassified;
  e.first_mention = static_cast<uint32_t>(b->mentions.size());
  for (auto [entity, count] : mentions) b->mentions.push_back({entity, count});
  e.mention_count = static_cast<uint32_t>(mentions.size());
  ++b->records;
}

// Makes the batch advance one stream, `key`, to `position` (line
// position + 1, digest 1234).
inline void SetCheckpoint(Batch* b, uint64_t position, std::string key = "file:test") {
  b->streams = {{std::move(key), "test input", {position, position + 1, 1234}}};
}

}  // namespace sagaflow::pipeline::testing
