#pragma once
// The one RAII layer over the SQLite C API, shared by the agent's spool and the collector's
// stores: a connection, prepared statements and a write transaction. Every failure throws
// sql::Error carrying SQLite's message, its extended result code and the statement that failed.
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
  // ReadWrite creates the file when it is missing.
  enum class Open { ReadWrite, ReadOnly };
  explicit Db(const std::string& path, Open mode = Open::ReadWrite);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows.
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
  Stmt(Db& db, const std::string& sql) : Stmt(db.raw(), sql) {}
  // For code that holds only the connection handle (e.g. a writer sharing a store's connection).
  Stmt(sqlite3* db, const std::string& sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_null(int i);
  // No copy: the caller keeps `v` alive and unchanged until the statement is reset.
  Stmt& bind_static(int i, std::string_view v);
  // true = a row is available; false = done.
  bool step();
  // Steps to completion, resets, and returns the rows changed.
  int run();
  // Also clears the bindings.
  void reset();

  std::int64_t i64(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  [[noreturn]] void fail(const std::string& what) const;

  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  std::string sql_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed without commit().
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool open_ = true;
};

}  // namespace seatlock::sql
