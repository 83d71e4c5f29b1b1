// Query results as a small typed table, rendered for people (aligned
// columns) or machines (JSON array of row objects, CSV with a header).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "query/analytics.h"
#include "util/status.h"

namespace sagaflow::query {

struct Cell {
  enum class Kind { kNull, kInt, kText };
  Kind kind = Kind::kNull;
  int64_t number = 0;
  std::string text;  // kText: the value; kNull: what a table shows instead (e.g. "(empty text)")

  static Cell Null(std::string shown = "") { return Cell{Kind::kNull, 0, std::move(shown)}; }
  static Cell Int(int64_t v) { return Cell{Kind::kInt, v, {}}; }
  static Cell Text(std::string v) { return Cell{Kind::kText, 0, std::move(v)}; }
};

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

// The JSON shapes of docs/schema.md (column names = JSON keys).
Table ToTable(const std::vector<TopEntityRow>& rows);  // entity, mentions, readers
Table ToTable(const std::vector<SagaRow>& rows);       // saga, events, readers
Table ToTable(const std::vector<RejectedRow>& rows);   // reason, events
Table ToTable(const std::vector<DeadLetter>& rows);    // source, line, position, reason, detail, excerpt
Table ToTable(const std::vector<TrendRow>& rows);      // time, bucket (ISO 8601), mentions, readers
Table ToTable(const std::vector<SagaTrendRow>& rows);  // saga, time, bucket (ISO 8601), events, readers

enum class Format { kTable, kJson, kCsv };
Result<Format> ParseFormat(const std::string& name);  // "table", "json", "csv"

// Renders with a trailing newline. JSON: one array of row objects on one
// line; CSV: RFC 4180; table: aligned columns, numbers right-aligned.
std::string Render(const Table& table, Format format);

}  // namespace sagaflow::query
