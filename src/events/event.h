// The event contract (docs/events.md): one JSON object per record,
//   {"id": string, "time": integer unix seconds, "readers": integer, "text": string}
// Unknown fields are ignored. A record that breaks the contract is *rejected*
// with one of the reasons below and goes to the dead-letter table; a valid
// event whose text is blank is *empty*: stored, never classified.
#pragma once

#include <cstdint>
#include <string_view>

namespace sagaflow::events {

// Limits of the contract. The time range is the one a ClickHouse DateTime
// (UInt32 seconds) can hold, so every store accepts every valid event; readers
// fit the prototype's Int32 column.
inline constexpr int64_t kMinTime = 0;
inline constexpr int64_t kMaxTime = 4294967295;  // 2106-02-07T06:28:15Z
inline constexpr int64_t kMaxReaders = 2147483647;
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kDefaultMaxEventBytes = 1 << 20;

// A valid event. Views point into the parser that produced it and stay valid
// until that parser parses again.
struct Event {
  std::string_view id;    // non-empty, valid UTF-8, <= kMaxIdBytes
  int64_t time = 0;       // [kMinTime, kMaxTime]
  int64_t readers = 0;    // [0, kMaxReaders]
  std::string_view text;  // unescaped, valid UTF-8, may be empty
};

// Why a record was rejected. The codes are stable: they are stored in the
// dead-letter table and grouped by `sagaflow query rejected`.
enum class RejectReason : uint8_t {
  kTooLarge,           // record longer than the configured maximum
  kInvalidUtf8,        // the record is not valid UTF-8
  kInvalidJson,        // not parseable as JSON
  kNotAnObject,        // valid JSON, but not an object
  kMissingField,       // id, time, readers or text absent
  kWrongType,          // a field of the wrong JSON type (e.g. "readers": "5")
  kDuplicateField,     // a contract field given twice (ambiguous)
  kEmptyId,            // "id": ""
  kIdTooLong,          // id longer than kMaxIdBytes
  kNegativeReaders,    // readers < 0
  kReadersOutOfRange,  // readers > kMaxReaders
  kTimeOutOfRange,     // time outside [kMinTime, kMaxTime]
};
inline constexpr int kRejectReasonCount = 12;

// "too_large", "invalid_utf8", ... (snake_case, stable).
std::string_view RejectReasonName(RejectReason reason) noexcept;

}  // namespace sagaflow::events
