// Thin RAII wrappers over the SQLite C API: a connection and prepared
// statements that report errors as Status. Parameters are always bound,
// never spliced into SQL text.
// A Db and its Statements are used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sagaflow::sinks::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept {
    std::swap(db_, o.db_);
    std::swap(stmt_, o.stmt_);
    return *this;
  }

  // Parameter indexes are 1-based, as in SQL (?1, ?2, ...).
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  // Binds without copying: `v` must outlive the next Step()/Reset().
  void BindStatic(int i, std::string_view v) {
    sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void Bind(int i, std::optional<int64_t> v) { v ? Bind(i, *v) : BindNull(i); }

  // Runs one step: true = a row is available, false = done.
  Result<bool> Step();
  // Step() until done, then Reset().
  Status Run();
  // Ready to run again. Bindings stay: callers bind every parameter anew.
  void Reset() { sqlite3_reset(stmt_); }

  sqlite3_stmt* raw() const { return stmt_; }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  enum class Mode { kReadWriteCreate, kReadOnly };
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Mode mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs SQL without parameters (DDL, PRAGMA, BEGIN/COMMIT).
  Status Exec(const std::string& sql);
  Result<Statement> Prepare(std::string_view sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  const std::string& path() const { return path_; }
  sqlite3* raw() { return db_; }

  // Status for the connection's last error, prefixed with `what`.
  Status Error(std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

}  // namespace sagaflow::sinks::sqlite
