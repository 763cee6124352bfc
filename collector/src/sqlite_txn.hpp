#pragma once
// The SQLite store's writing side: a StoreTxn on the store's one connection, under its lock
// (BEGIN IMMEDIATE ... COMMIT; each batch of a group commit in a savepoint). The store itself
// (opening, checkpoints, queries) is sqlite_store.cpp.
#include <memory>
#include <mutex>

#include "os/sqlite/sqlite.hpp"
#include "sqlite_console.hpp"
#include "store.hpp"

namespace seatlock::collector::sqlite_txn {

// What the transactions write with: the store's connection and lock, and the statements
// prepared once on that connection. The store declares it after the connection, so the
// statements are finalized before the connection closes.
struct Writer {
  Writer(sql::Db& conn, std::recursive_mutex& lock) : db(conn), mu(lock) {}
  sql::Db& db;
  std::recursive_mutex& mu;  // one connection, one thread at a time
  bool has_rollups = false;  // the console's rollup tables exist (kept in the same transaction)
  std::unique_ptr<sqlite_console::RollupWriter> rollups;
  std::unique_ptr<sql::Stmt> ins_event, line_by_id, events_at, count_range, get_seat, put_seat,
      add_finding, open_gaps, resolve, add_head, note_refusal, begin, savepoint, release,
      rollback_to, commit;

  sql::Stmt& stmt(std::unique_ptr<sql::Stmt>& slot, const char* sql) {
    if (!slot) slot = std::make_unique<sql::Stmt>(db, sql);
    return *slot;
  }
};

// Takes the writer's lock and begins an immediate transaction; rolled back unless committed.
std::unique_ptr<StoreTxn> begin(Writer& w);

}  // namespace seatlock::collector::sqlite_txn
