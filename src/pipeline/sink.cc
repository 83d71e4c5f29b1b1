#include "pipeline/sink.h"

namespace sagaflow::pipeline {

const char* EventStatusName(EventStatus s) noexcept { return s == EventStatus::kEmpty ? "empty" : "classified"; }

void Batch::Clear() {
  sequence = 0;
  streams.clear();
  events.clear();
  mentions.clear();
  dead_letters.clear();
  records = 0;
  bytes = 0;
}

}  // namespace sagaflow::pipeline
