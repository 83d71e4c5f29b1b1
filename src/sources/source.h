// Source: where records (one serialized event each) come from. A source
// delivers records of one or more *streams* (a file is one stream; a Kafka
// topic has one per partition), each record with a position in its stream.
//
// Exactly-once contract (Vector's end-to-end acknowledgements): the pipeline
// hands each batch, together with the position it reaches in every stream, to
// a sink; only after the sink acknowledged the batch (rows and positions
// stored) does it call Acknowledge(). A source that keeps its own offsets
// (Kafka's consumer group) commits them there; a file source needs nothing,
// because the sink stored the position in the same transaction as the rows.
// On start, a source resumes every stream after the position the sink holds
// for it (CheckpointReader), so re-running the same input adds nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sagaflow::sources {

// Bytes readable after every Record::payload (>= simdjson::SIMDJSON_PADDING).
inline constexpr size_t kPayloadPadding = 64;

// The last record of a stream that is durably consumed: reading resumes
// right after it. Its position, line and payload digest also let a source
// verify, on resume, that the input still holds that record there, so a
// *different* input that merely shares the stream's identity is refused
// instead of being silently skipped into.
struct Checkpoint {
  uint64_t position = 0;  // where that record starts: byte offset (file) or offset (Kafka)
  uint64_t line = 0;      // its 1-based line number (file sources), else 0
  uint64_t digest = 0;    // Fnv1a64 of its payload; 0 = not checked (too large, or not kept)
};

// Read access to the positions a sink has stored (a Sink implements it).
// The reader given to Source::Start() stays valid until Finish() returns and
// may also be used from Next() (a Kafka source reads the checkpoints of the
// partitions it is assigned); the pipeline serializes it with sink writes.
class CheckpointReader {
 public:
  virtual ~CheckpointReader() = default;
  // The committed checkpoint of the stream with this key, or nullopt if none.
  virtual Result<std::optional<Checkpoint>> LoadCheckpoint(std::string_view stream_key) = 0;
};

struct Record {
  enum class Kind { kPayload, kTooLarge };
  Kind kind = Kind::kPayload;
  std::string_view payload;  // empty for kTooLarge; followed by kPayloadPadding readable bytes
  uint32_t stream = 0;       // index for StreamKey()
  uint64_t position = 0;     // where the record starts in its stream
  uint64_t line = 0;         // 1-based line number (file sources), else 0
  uint64_t size = 0;         // payload size in bytes, also for kTooLarge
};

// How far a stream's stored records are behind its end (for sources whose
// streams grow, such as Kafka partitions). -1 = unknown.
struct StreamLag {
  std::string key;         // Source::StreamKey()
  int64_t committed = -1;  // position after the last acknowledged record
  int64_t end = -1;        // position after the stream's last record (Kafka: high watermark)
  int64_t lag = -1;        // records between them
};

class Source {
 public:
  virtual ~Source() = default;

  // For logs and summaries, e.g. "file:/data/events.jsonl".
  virtual std::string Describe() const = 0;

  // Resolves the stream identities and positions each stream after its
  // committed checkpoint. Called once, before Next(). Fails if the input
  // cannot be the one the checkpoint was taken from.
  virtual Status Start(CheckpointReader* committed) = 0;

  // Stable identity of a stream, stored beside its checkpoint. Valid after
  // Start() for every stream index a record has carried.
  virtual const std::string& StreamKey(uint32_t stream) const = 0;

  enum class ReadResult { kRecord, kIdle, kWaiting, kEnd };
  // Blocks for the next record. The record's payload stays valid until the
  // next call. Sources that poll return now and then without a record:
  // kIdle when they are known to be caught up (the pipeline's stop_when_idle
  // counts an unbroken run of these), kWaiting when nothing arrived but they
  // cannot tell (a broker unreachable, fetches failing, a rebalance). kEnd:
  // the input is exhausted or a stop was requested.
  virtual Result<ReadResult> Next(Record* record) = 0;

  // The sink durably stored every record of `stream` up to and including the
  // one at `checkpoint`.
  // Called from the pipeline's commit thread, in position order.
  virtual Status Acknowledge(uint32_t stream, const Checkpoint& checkpoint) { return Status::Ok(); }

  // Called once after the last Acknowledge(), also after a failed run: a
  // source that keeps positions of its own (Kafka's group offsets) makes its
  // acknowledged positions durable there and releases its streams. An error
  // means they may not be (the sink's checkpoints still are).
  virtual Status Finish() { return Status::Ok(); }

  // True for a source that also keeps its positions outside the sink (Kafka's
  // group offsets), committed after the sink acknowledged: the pipeline then
  // asks the sink for acknowledgements that survive power loss
  // (pipeline::Sink::RequirePowerLossDurability).
  virtual bool KeepsOwnPositions() const { return false; }

  // Lag of the streams this source reads now. Thread-safe.
  virtual std::vector<StreamLag> Lag() const { return {}; }

  // Records skipped at start because they were already committed (counted by
  // sources that must read through them, such as a pipe).
  virtual uint64_t SkippedRecords() const { return 0; }

  // Records this source could not read because they were deleted before
  // being read (Kafka retention); each loss is also logged. Thread-safe.
  virtual uint64_t LostRecords() const { return 0; }

  // Asks a blocked Next() to return kEnd soon. Thread-safe, best effort.
  virtual void RequestStop() {}
};

// 64-bit FNV-1a: the digest of record payloads and first lines. Stable across
// machines and trivial to reproduce (docs/schema.md).
uint64_t Fnv1a64(std::string_view bytes) noexcept;

}  // namespace sagaflow::sources
