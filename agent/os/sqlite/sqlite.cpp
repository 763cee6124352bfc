#include "os/sqlite/sqlite.hpp"

#include <sqlite3.h>

namespace seatlock::sql {
namespace {

// The statement as it goes into an error message: whole when short, else its start.
std::string excerpt(std::string_view sql) {
  constexpr std::size_t kMax = 120;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

[[noreturn]] void throw_from(sqlite3* db, const std::string& what) {
  throw Error(what + ": " + sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

}  // namespace

bool is_corruption(int code) {
  int primary = code & 0xff;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

Db::Db(const std::string& path, Open mode) {
  int flags =
      mode == Open::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // callers serialise access to one connection themselves
  if (int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr); rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    int code = db_ ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open database " + path + ": " + msg, code);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10'000);
}

Db::~Db() {
  sqlite3_close_v2(db_);  // _v2: a statement that outlives its connection does not leak it
}

long Db::changes() const {
  return sqlite3_changes(db_);
}

void Db::fail(const std::string& what) const {
  throw_from(db_, what);
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw Error("sqlite: " + msg + " (in: " + excerpt(sql) + ")", sqlite3_extended_errcode(db_));
  }
}

Stmt::Stmt(sqlite3* db, const std::string& sql) : db_(db), sql_(sql) {
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st_, nullptr) !=
      SQLITE_OK)
    fail("sqlite prepare");
}

Stmt::~Stmt() {
  sqlite3_finalize(st_);
}

void Stmt::fail(const std::string& what) const {
  throw_from(db_, what + " (in: " + excerpt(sql_) + ")");
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) fail("sqlite bind " + std::to_string(i));
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    fail("sqlite bind " + std::to_string(i));
  return *this;
}

Stmt& Stmt::bind_static(int i, std::string_view v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) != SQLITE_OK)
    fail("sqlite bind " + std::to_string(i));
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(st_, i) != SQLITE_OK) fail("sqlite bind " + std::to_string(i));
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Read before the reset, which may change them.
  std::string msg = sqlite3_errmsg(db_);
  int code = sqlite3_extended_errcode(db_);
  sqlite3_reset(st_);
  throw Error("sqlite step: " + msg + " (in: " + excerpt(sql_) + ")", code);
}

int Stmt::run() {
  while (step()) {
  }
  int n = sqlite3_changes(db_);
  reset();
  return n;
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
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col)))
           : std::string();
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
    } catch (...) {  // a destructor must not throw; the open transaction dies with the connection
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace seatlock::sql
