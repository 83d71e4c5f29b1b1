// EventParser: validates one record against the event contract (event.h).
// One parser per thread: it owns a reused simdjson DOM parser, and the views
// of a parsed Event point into it until the next Parse().
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "events/event.h"

namespace sagaflow::events {

struct Rejection {
  RejectReason reason = RejectReason::kInvalidJson;
  std::string detail;  // human-readable, names the field and the problem
};

class EventParser {
 public:
  EventParser() = default;
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses `record`, which must be followed in memory by at least
  // simdjson::SIMDJSON_PADDING readable bytes (io::LineReader and the
  // pipeline's batches guarantee it). Returns true and fills *event, or
  // returns false and fills *rejection.
  bool Parse(std::string_view record, Event* event, Rejection* rejection) noexcept;

 private:
  simdjson::dom::parser parser_;
};

}  // namespace sagaflow::events
