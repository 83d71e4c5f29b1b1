// Building ClickHouse SQL and TabSeparated data safely.
//
// ClickHouse 18.16 has no query parameters ({name:Type} came in 19.x), so
// every value that reaches SQL text goes through one of these functions:
// strings are quoted with a complete escaper, identifiers are validated
// against a strict pattern, integers are formatted by the caller (fmt).
// Nothing else is ever spliced into SQL. The TabSeparated functions are the
// two directions of ClickHouse's "escaped" text format (rows we INSERT and
// rows a SELECT ... FORMAT TabSeparated returns).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sagaflow::sinks::clickhouse {

// `s` as a ClickHouse string literal: single quotes, with backslash, quote
// and control bytes escaped. Valid for any byte string (also invalid UTF-8).
std::string QuoteString(std::string_view s);

// True for names made of [A-Za-z_][A-Za-z0-9_]* (at most 64 bytes): the only
// database names sagaflow accepts, so they need no quoting anywhere.
bool IsPlainIdentifier(std::string_view name) noexcept;

// Appends `s` escaped for a TabSeparated field (\\, \t, \n, \r, \0, \b, \f).
void AppendTsvField(std::string* out, std::string_view s);

// Appends TabSeparated rows to a string, one field at a time:
//   TsvRows rows(&data);
//   rows.Uint(id).Text(name).Int(time).EndRow();
// Not thread-safe; `out` must outlive it.
class TsvRows {
 public:
  explicit TsvRows(std::string* out) : out_(out) {}
  TsvRows& Uint(uint64_t v);
  TsvRows& Int(int64_t v);
  TsvRows& Text(std::string_view s);  // escaped with AppendTsvField
  // An Array(UInt*) field of n elements, at(i) the i-th: [1,2,3].
  template <typename At>
  TsvRows& UintArray(size_t n, At at) {
    Separate();
    out_->push_back('[');
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) out_->push_back(',');
      AppendUint(static_cast<uint64_t>(at(i)));
    }
    out_->push_back(']');
    return *this;
  }
  void EndRow();
  size_t rows() const { return rows_; }

 private:
  void Separate();
  void AppendUint(uint64_t v);
  std::string* out_;
  bool in_row_ = false;
  size_t rows_ = 0;
};

// Splits a TabSeparated result into rows of unescaped fields. Fails on a
// row whose field count differs from `columns`.
Result<std::vector<std::vector<std::string>>> ParseTsv(std::string_view body, size_t columns);

// A TabSeparated integer field; fails with a message naming `what`.
Result<int64_t> ParseInt(std::string_view field, std::string_view what);
Result<uint64_t> ParseUint(std::string_view field, std::string_view what);

// A TabSeparated body of `columns` unsigned integers a line (a SELECT of
// UInt columns), parsed in place: row(values) for each line, in order.
// kCorruption naming `what` and the line if one is not that.
Status ForEachUintRow(std::string_view body, size_t columns, std::string_view what,
                      const std::function<Status(const uint64_t*)>& row);

}  // namespace sagaflow::sinks::clickhouse
