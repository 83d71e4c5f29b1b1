#include "query/table.h"

#include <algorithm>

#include "query/time_format.h"
#include "util/json_writer.h"

namespace sagaflow::query {

Table ToTable(const std::vector<TopEntityRow>& rows) {
  Table t{{"entity", "mentions", "readers"}, {}};
  for (const auto& r : rows) t.rows.push_back({Cell::Text(r.entity), Cell::Int(r.mentions), Cell::Int(r.readers)});
  return t;
}

Table ToTable(const std::vector<SagaRow>& rows) {
  Table t{{"saga", "events", "readers"}, {}};
  for (const auto& r : rows) {
    t.rows.push_back(
        {r.saga ? Cell::Text(*r.saga) : Cell::Null("(empty text)"), Cell::Int(r.events), Cell::Int(r.readers)});
  }
  return t;
}

Table ToTable(const std::vector<RejectedRow>& rows) {
  Table t{{"reason", "events"}, {}};
  for (const auto& r : rows) t.rows.push_back({Cell::Text(r.reason), Cell::Int(r.events)});
  return t;
}

Table ToTable(const std::vector<DeadLetter>& rows) {
  Table t{{"source", "line", "position", "reason", "detail", "excerpt"}, {}};
  for (const auto& r : rows) {
    t.rows.push_back({Cell::Text(r.source), Cell::Int(r.line), Cell::Int(r.position), Cell::Text(r.reason),
                      Cell::Text(r.detail), Cell::Text(r.excerpt)});
  }
  return t;
}

Table ToTable(const std::vector<TrendRow>& rows) {
  Table t{{"time", "bucket", "mentions", "readers"}, {}};
  for (const auto& r : rows) {
    t.rows.push_back({Cell::Int(r.time), Cell::Text(FormatTime(r.time)), Cell::Int(r.mentions), Cell::Int(r.readers)});
  }
  return t;
}

Table ToTable(const std::vector<SagaTrendRow>& rows) {
  Table t{{"saga", "time", "bucket", "events", "readers"}, {}};
  for (const auto& r : rows) {
    t.rows.push_back({r.saga ? Cell::Text(*r.saga) : Cell::Null("(empty text)"), Cell::Int(r.time),
                      Cell::Text(FormatTime(r.time)), Cell::Int(r.events), Cell::Int(r.readers)});
  }
  return t;
}

Result<Format> ParseFormat(const std::string& name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "csv") return Format::kCsv;
  return Status::InvalidArgument("unknown format \"" + name + "\" (table, json or csv)");
}

namespace {

std::string Json(const Table& t) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const auto& row : t.rows) {
    w.BeginObject();
    for (size_t c = 0; c < t.columns.size(); ++c) {
      w.Key(t.columns[c]);
      const Cell& cell = row[c];
      switch (cell.kind) {
        case Cell::Kind::kNull:
          w.Null();
          break;
        case Cell::Kind::kInt:
          w.Int(cell.number);
          break;
        case Cell::Kind::kText:
          w.String(cell.text);
          break;
      }
    }
    w.EndObject();
  }
  w.EndArray();
  out.push_back('\n');
  return out;
}

void CsvField(std::string* out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

std::string Csv(const Table& t) {
  std::string out;
  for (size_t c = 0; c < t.columns.size(); ++c) {
    if (c) out.push_back(',');
    CsvField(&out, t.columns[c]);
  }
  out.append("\r\n");
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out.push_back(',');
      if (row[c].kind == Cell::Kind::kInt) {
        out.append(std::to_string(row[c].number));
      } else if (row[c].kind == Cell::Kind::kText) {
        CsvField(&out, row[c].text);
      }
    }
    out.append("\r\n");
  }
  return out;
}

// Display width of UTF-8 text: code points (good enough for names and
// reasons; the table is for people, JSON and CSV are exact).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Shown(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::kInt:
      return std::to_string(c.number);
    case Cell::Kind::kText: {
      std::string s = c.text;  // one line per row
      std::replace_if(
          s.begin(), s.end(), [](char ch) { return ch == '\n' || ch == '\r' || ch == '\t'; }, ' ');
      return s;
    }
    case Cell::Kind::kNull:
      return c.text;
  }
  return {};
}

std::string Aligned(const Table& t) {
  std::vector<std::vector<std::string>> shown;
  std::vector<size_t> width(t.columns.size());
  std::vector<bool> numeric(t.columns.size(), !t.rows.empty());
  for (size_t c = 0; c < t.columns.size(); ++c) width[c] = Width(t.columns[c]);
  for (const auto& row : t.rows) {
    auto& s = shown.emplace_back();
    for (size_t c = 0; c < row.size(); ++c) {
      s.push_back(Shown(row[c]));
      width[c] = std::max(width[c], Width(s.back()));
      numeric[c] = numeric[c] && row[c].kind == Cell::Kind::kInt;
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c) l.append("  ");
      std::string pad(width[c] - Width(cells[c]), ' ');
      l.append(numeric[c] ? pad + cells[c] : cells[c] + (c + 1 < cells.size() ? pad : ""));
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out.append(l).push_back('\n');
  };
  line(t.columns);
  std::vector<std::string> rule;
  rule.reserve(width.size());
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& s : shown) line(s);
  if (t.rows.empty()) out.append("(no rows)\n");
  return out;
}

}  // namespace

std::string Render(const Table& table, Format format) {
  switch (format) {
    case Format::kJson:
      return Json(table);
    case Format::kCsv:
      return Csv(table);
    case Format::kTable:
      return Aligned(table);
  }
  return {};
}

}  // namespace sagaflow::query
