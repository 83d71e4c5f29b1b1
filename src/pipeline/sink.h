// Sink: where analysed batches are stored (SQLite now, ClickHouse next).
//
// Contract, the heart of exactly-once delivery:
//  - Write() stores one batch atomically *together with* the checkpoints it
//    carries (the last record of each stream the batch consumed), and returns
//    only once both are durable: that return is the acknowledgement after
//    which the pipeline tells the source (Vector-style end-to-end acks).
//  - An event or dead letter whose (stream, position) is already stored is
//    ignored and counted as a duplicate (a second guard behind checkpoints).
//  - Prepare() applies versioned migrations and upserts the dimensions; it
//    never drops or rewrites facts.
// A sink is used from one thread at a time (the pipeline's commit thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "events/event.h"
#include "pipeline/dimensions.h"
#include "pipeline/latency.h"
#include "sources/source.h"
#include "util/status.h"

namespace sagaflow::pipeline {

enum class EventStatus : uint8_t { kClassified, kEmpty };
// "classified" / "empty": the values stored in the fact table.
const char* EventStatusName(EventStatus s) noexcept;

struct EventRow {
  uint32_t stream = 0;  // index into Batch::streams
  uint64_t position = 0;
  uint64_t line = 0;
  std::string article_id;
  int32_t saga = -1;  // index into Dimensions::sagas; -1 for empty texts
  int64_t readers = 0;
  int64_t time = 0;
  EventStatus status = EventStatus::kClassified;
  uint32_t first_mention = 0;  // this event's mentions are
  uint32_t mention_count = 0;  //   Batch::mentions[first_mention, +mention_count)
};

struct MentionRow {
  uint32_t entity = 0;  // index into Dimensions::entities
  uint32_t count = 0;   // > 0
};

struct DeadLetterRow {
  uint32_t stream = 0;
  uint64_t position = 0;
  uint64_t line = 0;
  events::RejectReason reason = events::RejectReason::kInvalidJson;
  std::string detail;
  std::string excerpt;         // valid UTF-8, bounded (events::Utf8Excerpt)
  uint64_t payload_bytes = 0;  // 0 when unknown (too large to buffer)
};

struct StreamCheckpoint {
  std::string key;          // Source::StreamKey()
  std::string description;  // Source::Describe(), for people reading the store
  sources::Checkpoint checkpoint;
};

struct Batch {
  uint64_t sequence = 0;                  // consecutive from 0 within a run
  std::vector<StreamCheckpoint> streams;  // the streams this batch advanced
  std::vector<EventRow> events;
  std::vector<MentionRow> mentions;
  std::vector<DeadLetterRow> dead_letters;
  uint64_t records = 0;  // events + dead letters
  uint64_t bytes = 0;    // payload bytes

  void Clear();
};

struct WriteReport {
  uint64_t events = 0;        // fact rows newly stored
  uint64_t mentions = 0;      // fact_readers rows newly stored
  uint64_t dead_letters = 0;  // dead letters newly stored
  uint64_t duplicates = 0;    // events and dead letters already stored (ignored)
};

class Sink : public sources::CheckpointReader {
 public:
  // For logs, e.g. "sqlite:/var/lib/sagaflow.db".
  virtual std::string Describe() const = 0;
  // Migrates the schema and upserts the dimensions. Called once, first.
  virtual Status Prepare(const Dimensions& dimensions) = 0;
  // Called before Prepare() when the source keeps positions of its own
  // (sources::Source::KeepsOwnPositions): from then on a Write() must be
  // durable past an OS crash or power loss when it returns, not only past a
  // process crash, or the source could commit a position past rows the
  // store then loses (SQLite: synchronous=FULL).
  virtual Status RequirePowerLossDurability() { return Status::Ok(); }
  // Stores `batch` and its checkpoints atomically; returns once durable.
  virtual Result<WriteReport> Write(const Batch& batch) = 0;
  // Makes a Write() that waits for the store (retrying through an outage)
  // give up soon: it then fails with kUnavailable, having acknowledged
  // nothing it did not store. Thread-safe; the only member that may be
  // called while another thread is inside Write().
  virtual void Abandon() noexcept {}
  // The store's request latencies and health, for monitoring; nullptr when
  // it keeps none. Lives as long as the sink; thread-safe.
  virtual const StoreStats* stats() const noexcept { return nullptr; }
};

}  // namespace sagaflow::pipeline
