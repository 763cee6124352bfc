#pragma once
// Minimal RAII over the SQLite C API: a connection and prepared statements. Every failure
// throws std::runtime_error carrying SQLite's message and the statement that failed.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace seatlock::sql {

// Every SQLite failure; code() is SQLite's extended result code (SQLITE_FULL, SQLITE_NOTADB...).
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  int primary_code() const { return code_ & 0xff; }

 private:
  int code_;
};

// SQLITE_NOTADB or SQLITE_CORRUPT: the file is not (or no longer) a usable database.
bool is_corruption(int code);

class Db {
 public:
  enum class Open { ReadWrite, ReadOnly };
  Db(const std::string& path, Open mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql);
  sqlite3* raw() const { return db_; }
  // Rows changed by the last INSERT/UPDATE/DELETE.
  long changes() const;
  [[noreturn]] void fail(const std::string& what) const;

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(Db& db, const std::string& sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_null(int i);
  // The caller keeps `v` alive until the statement is reset (no copy).
  Stmt& bind_static(int i, std::string_view v);
  // true = a row is available; false = done.
  bool step();
  void run() {
    step();
    reset();
  }
  void reset();

  std::int64_t i64(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* st_ = nullptr;
  std::string sql_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed without commit().
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool open_ = true;
};

}  // namespace seatlock::sql
