#include "os/spool/sqlite.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace seatlock::sql {

Db::Db(const std::string& path, Open mode) {
  int flags =
      mode == Open::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // callers serialise access themselves
  if (int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr); rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    int code = db_ ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open " + path + ": " + msg, code);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10'000);
}

Db::~Db() {
  sqlite3_close(db_);
}

long Db::changes() const {
  return sqlite3_changes(db_);
}

bool is_corruption(int code) {
  int primary = code & 0xff;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

void Db::fail(const std::string& what) const {
  throw Error(what + ": " + sqlite3_errmsg(db_), sqlite3_extended_errcode(db_));
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error("sqlite: " + msg + " (in: " + sql.substr(0, 60) + ")",
                sqlite3_extended_errcode(db_));
  }
}

Stmt::Stmt(Db& db, const std::string& sql) : db_(db), sql_(sql) {
  if (sqlite3_prepare_v3(db.raw(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st_, nullptr) !=
      SQLITE_OK)
    db.fail("sqlite prepare '" + sql.substr(0, 60) + "'");
}

Stmt::~Stmt() {
  sqlite3_finalize(st_);
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) db_.fail("sqlite bind");
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    db_.fail("sqlite bind");
  return *this;
}

Stmt& Stmt::bind_static(int i, std::string_view v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) != SQLITE_OK)
    db_.fail("sqlite bind");
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(st_, i) != SQLITE_OK) db_.fail("sqlite bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sql_.substr(0, 60);
  sqlite3_reset(st_);
  db_.fail("sqlite step '" + sql + "'");
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::int64_t Stmt::i64(int col) const {
  return sqlite3_column_int64(st_, col);
}

std::string Stmt::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st_, col))) : std::string();
}

bool Stmt::is_null(int col) const {
  return sqlite3_column_type(st_, col) == SQLITE_NULL;
}

Transaction::Transaction(Db& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (open_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace seatlock::sql
