#include "sinks/clickhouse/sql.h"

#include <fmt/format.h>

#include <charconv>

namespace sagaflow::sinks::clickhouse {

namespace {

// The escape letter of a byte both formats escape, or 0.
char EscapeLetter(char c) noexcept {
  switch (c) {
    case '\\':
      return '\\';
    case '\t':
      return 't';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\0':
      return '0';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    default:
      return 0;
  }
}

// Appends `s` with EscapeLetter bytes (and `quote`, if not 0) backslash-escaped.
void AppendEscaped(std::string* out, std::string_view s, char quote) {
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    char letter = EscapeLetter(c);
    if (!letter && quote && c == quote) letter = quote;
    if (!letter) continue;
    out->append(s.data() + run, i - run);
    out->push_back('\\');
    out->push_back(letter);
    run = i + 1;
  }
  out->append(s.data() + run, s.size() - run);
}

// Unescapes one field of ClickHouse's escaped output (TabSeparated).
void Unescape(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\' || i + 1 == in.size()) {
      out->push_back(in[i]);
      continue;
    }
    const char c = in[++i];
    switch (c) {
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case '0':
        out->push_back('\0');
        break;
      case 'a':
        out->push_back('\a');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case 'x':
        if (i + 2 < in.size()) {
          unsigned v = 0;
          auto [p, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
          if (ec == std::errc() && p == in.data() + i + 3) {
            out->push_back(static_cast<char>(v));
            i += 2;
            break;
          }
        }
        out->push_back('x');
        break;
      default:
        out->push_back(c);  // \\ \' and any other escaped byte stand for themselves
    }
  }
}

}  // namespace

std::string QuoteString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  AppendEscaped(&out, s, '\'');
  out.push_back('\'');
  return out;
}

bool IsPlainIdentifier(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

void AppendTsvField(std::string* out, std::string_view s) { AppendEscaped(out, s, 0); }

void TsvRows::Separate() {
  if (in_row_) out_->push_back('\t');
  in_row_ = true;
}

void TsvRows::AppendUint(uint64_t v) {
  fmt::format_int f(v);
  out_->append(f.data(), f.size());
}

TsvRows& TsvRows::Uint(uint64_t v) {
  Separate();
  AppendUint(v);
  return *this;
}

TsvRows& TsvRows::Int(int64_t v) {
  Separate();
  fmt::format_int f(v);
  out_->append(f.data(), f.size());
  return *this;
}

TsvRows& TsvRows::Text(std::string_view s) {
  Separate();
  AppendTsvField(out_, s);
  return *this;
}

void TsvRows::EndRow() {
  out_->push_back('\n');
  in_row_ = false;
  ++rows_;
}

Result<std::vector<std::vector<std::string>>> ParseTsv(std::string_view body, size_t columns) {
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    start = end + 1;
    std::vector<std::string>& row = rows.emplace_back();
    size_t field_start = 0;
    for (;;) {
      size_t tab = line.find('\t', field_start);
      std::string_view field = line.substr(field_start, tab == std::string_view::npos ? tab : tab - field_start);
      Unescape(field, &row.emplace_back());
      if (tab == std::string_view::npos) break;
      field_start = tab + 1;
    }
    if (row.size() != columns) {
      return Status::Corruption(fmt::format("ClickHouse returned a row of {} fields, expected {}: \"{}\"", row.size(),
                                            columns, line.substr(0, 200)));
    }
  }
  return rows;
}

namespace {
template <typename T>
Result<T> ParseNumber(std::string_view field, std::string_view what) {
  T v{};
  auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || p != field.data() + field.size() || field.empty()) {
    return Status::Corruption(fmt::format("ClickHouse returned \"{}\" for {}, expected an integer", field, what));
  }
  return v;
}
}  // namespace

Result<int64_t> ParseInt(std::string_view field, std::string_view what) { return ParseNumber<int64_t>(field, what); }
Result<uint64_t> ParseUint(std::string_view field, std::string_view what) { return ParseNumber<uint64_t>(field, what); }

Status ForEachUintRow(std::string_view body, size_t columns, std::string_view what,
                      const std::function<Status(const uint64_t*)>& row) {
  std::vector<uint64_t> values(columns);
  size_t line = 0;
  for (size_t at = 0; at < body.size(); at += 1) {
    ++line;
    size_t end = body.find('\n', at);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view text = body.substr(at, end - at);
    size_t from = 0;
    for (size_t c = 0; c < columns; ++c) {
      const size_t tab = text.find('\t', from);
      const bool last = c + 1 == columns;
      if (last != (tab == std::string_view::npos)) {
        return Status::Corruption(
            fmt::format("ClickHouse returned line {} of {} with other than {} fields", line, what, columns));
      }
      auto v = ParseUint(text.substr(from, last ? std::string_view::npos : tab - from), what);
      if (!v.ok()) return v.status().WithContext(fmt::format("line {}", line));
      values[c] = *v;
      from = tab + 1;
    }
    SAGAFLOW_RETURN_IF_ERROR(row(values.data()));
    at = end;
  }
  return Status::Ok();
}

}  // namespace sagaflow::sinks::clickhouse
