#pragma once
// Thin RAII wrappers over the SQLite C API: errors become std::runtime_error with the SQL text.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seatlock::collector {

class SqliteDb {
 public:
  explicit SqliteDb(const std::string& path, bool read_only = false);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  void exec(const char* sql);
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStmt {
 public:
  SqliteStmt(sqlite3* db, const char* sql);
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  SqliteStmt& bind(int i, std::string_view v);
  // No copy: `v` must stay alive and unchanged until the statement is reset (run() resets).
  SqliteStmt& bind_static(int i, std::string_view v);
  SqliteStmt& bind(int i, std::int64_t v);
  SqliteStmt& bind_null(int i);
  // true = a row is available; false = done. Throws on error.
  bool step();
  void reset();  // also clears bindings
  // Runs to completion and resets; returns sqlite3_changes().
  int run();

  std::int64_t i64(int col) const { return sqlite3_column_int64(st_, col); }
  std::string text(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  std::string sql_;
};

}  // namespace seatlock::collector
