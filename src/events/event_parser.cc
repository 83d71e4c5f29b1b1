#include "events/event_parser.h"

#include <fmt/format.h>

namespace sagaflow::events {

namespace sj = simdjson;

std::string_view RejectReasonName(RejectReason reason) noexcept {
  switch (reason) {
    case RejectReason::kTooLarge:
      return "too_large";
    case RejectReason::kInvalidUtf8:
      return "invalid_utf8";
    case RejectReason::kInvalidJson:
      return "invalid_json";
    case RejectReason::kNotAnObject:
      return "not_an_object";
    case RejectReason::kMissingField:
      return "missing_field";
    case RejectReason::kWrongType:
      return "wrong_type";
    case RejectReason::kDuplicateField:
      return "duplicate_field";
    case RejectReason::kEmptyId:
      return "empty_id";
    case RejectReason::kIdTooLong:
      return "id_too_long";
    case RejectReason::kNegativeReaders:
      return "negative_readers";
    case RejectReason::kReadersOutOfRange:
      return "readers_out_of_range";
    case RejectReason::kTimeOutOfRange:
      return "time_out_of_range";
  }
  return "unknown";
}

namespace {

bool Reject(Rejection* r, RejectReason reason, std::string detail) {
  r->reason = reason;
  r->detail = std::move(detail);
  return false;
}

// Reads an integer field. JSON numbers with a fraction or exponent are not
// integers even when their value is whole: the contract says integer.
enum class IntValue { kOk, kNotInteger, kTooLarge };
IntValue ReadInt(sj::dom::element v, int64_t* out) {
  if (v.is_int64()) {
    *out = v.get_int64().value_unsafe();
    return IntValue::kOk;
  }
  if (v.is_uint64()) return IntValue::kTooLarge;  // above INT64_MAX
  return IntValue::kNotInteger;
}

const char* TypeName(sj::dom::element v) {
  switch (v.type()) {
    case sj::dom::element_type::ARRAY:
      return "an array";
    case sj::dom::element_type::OBJECT:
      return "an object";
    case sj::dom::element_type::INT64:
    case sj::dom::element_type::UINT64:
      return "an integer";
    case sj::dom::element_type::DOUBLE:
      return "a number with a fraction or exponent";
    case sj::dom::element_type::STRING:
      return "a string";
    case sj::dom::element_type::BOOL:
      return "a boolean";
    case sj::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown type";
}

}  // namespace

bool EventParser::Parse(std::string_view record, Event* event, Rejection* rejection) noexcept {
  sj::dom::element root;
  if (auto e = parser_.parse(record.data(), record.size(), false).get(root)) {
    if (e == sj::UTF8_ERROR) return Reject(rejection, RejectReason::kInvalidUtf8, "the record is not valid UTF-8");
    if (e == sj::STRING_ERROR) {
      return Reject(rejection, RejectReason::kInvalidJson, "invalid string (bad escape or unpaired surrogate)");
    }
    return Reject(rejection, RejectReason::kInvalidJson, std::string("malformed JSON: ") + sj::error_message(e));
  }
  sj::dom::object obj;
  if (root.get(obj)) {
    return Reject(rejection, RejectReason::kNotAnObject,
                  fmt::format("the record is {}, not an object", TypeName(root)));
  }

  enum Field { kId, kTime, kReaders, kText, kFieldCount };
  static constexpr const char* kNames[kFieldCount] = {"id", "time", "readers", "text"};
  sj::dom::element fields[kFieldCount];
  bool seen[kFieldCount] = {false, false, false, false};
  for (auto [key, value] : obj) {
    int f = -1;
    for (int i = 0; i < kFieldCount; ++i) {
      if (key == kNames[i]) f = i;
    }
    if (f < 0) continue;  // unknown fields are ignored
    if (seen[f])
      return Reject(rejection, RejectReason::kDuplicateField, fmt::format("field \"{}\" appears twice", kNames[f]));
    seen[f] = true;
    fields[f] = value;
  }
  for (int i = 0; i < kFieldCount; ++i) {
    if (!seen[i]) return Reject(rejection, RejectReason::kMissingField, fmt::format("missing field \"{}\"", kNames[i]));
  }

  for (int f : {kId, kText}) {
    if (!fields[f].is_string()) {
      return Reject(rejection, RejectReason::kWrongType,
                    fmt::format("field \"{}\" must be a string, not {}", kNames[f], TypeName(fields[f])));
    }
  }
  int64_t ints[kFieldCount] = {};
  for (int f : {kTime, kReaders}) {
    switch (ReadInt(fields[f], &ints[f])) {
      case IntValue::kOk:
        break;
      case IntValue::kNotInteger:
        return Reject(rejection, RejectReason::kWrongType,
                      fmt::format("field \"{}\" must be an integer, not {}", kNames[f], TypeName(fields[f])));
      case IntValue::kTooLarge:
        return Reject(rejection, f == kTime ? RejectReason::kTimeOutOfRange : RejectReason::kReadersOutOfRange,
                      fmt::format("field \"{}\" is {}, above the maximum {}", kNames[f],
                                  fields[f].get_uint64().value_unsafe(), f == kTime ? kMaxTime : kMaxReaders));
    }
  }

  std::string_view id = fields[kId].get_string().value_unsafe();
  if (id.empty()) return Reject(rejection, RejectReason::kEmptyId, "field \"id\" is empty");
  if (id.size() > kMaxIdBytes) {
    return Reject(rejection, RejectReason::kIdTooLong,
                  fmt::format("field \"id\" is {} bytes long, above the maximum {}", id.size(), kMaxIdBytes));
  }
  if (ints[kReaders] < 0) {
    return Reject(rejection, RejectReason::kNegativeReaders,
                  fmt::format("field \"readers\" is negative ({})", ints[kReaders]));
  }
  if (ints[kReaders] > kMaxReaders) {
    return Reject(rejection, RejectReason::kReadersOutOfRange,
                  fmt::format("field \"readers\" is {}, above the maximum {}", ints[kReaders], kMaxReaders));
  }
  if (ints[kTime] < kMinTime || ints[kTime] > kMaxTime) {
    return Reject(rejection, RejectReason::kTimeOutOfRange,
                  fmt::format("field \"time\" is {}, outside [{}, {}]", ints[kTime], kMinTime, kMaxTime));
  }
  event->id = id;
  event->time = ints[kTime];
  event->readers = ints[kReaders];
  event->text = fields[kText].get_string().value_unsafe();
  return true;
}

}  // namespace sagaflow::events
