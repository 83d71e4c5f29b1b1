// JsonWriter: appends compact JSON to a caller-owned std::string. Used on
// output hot paths (one line per event), so it never allocates beyond the
// output buffer. Strings must be valid UTF-8 (inputs are validated on entry);
// control characters, quotes and backslashes are escaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sagaflow {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() {
    Separate();
    out_->push_back('{');
    first_ = true;
  }
  void EndObject() {
    out_->push_back('}');
    first_ = false;
  }
  void BeginArray() {
    Separate();
    out_->push_back('[');
    first_ = true;
  }
  void EndArray() {
    out_->push_back(']');
    first_ = false;
  }
  // Writes `"key":`; the next value call writes the value.
  void Key(std::string_view key);

  void String(std::string_view s);
  void Int(int64_t v);
  // Shortest representation that round-trips to the same double.
  void Double(double v);
  void Bool(bool v);
  void Null();

 private:
  void Separate();
  std::string* out_;
  bool first_ = true;
  bool after_key_ = false;
};

// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace sagaflow
