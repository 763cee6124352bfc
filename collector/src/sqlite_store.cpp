// The default EventStore over SQLite: opening, WAL checkpoints, reads and queries, the admin
// tables. Writing (the ingest transaction) is sqlite_txn.cpp.
#include "sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "os/sqlite/sqlite.hpp"
#include "sqlite_admin.hpp"
#include "sqlite_console.hpp"
#include "sqlite_schema.hpp"
#include "sqlite_txn.hpp"

namespace seatlock::collector {
namespace {

using namespace sqlite_schema;

class SqliteStore : public EventStore {
 public:
  SqliteStore(const std::string& path, bool create, bool background_checkpoint)
      : path_(path), db_(path), writer_(db_, mu_) {
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec("PRAGMA synchronous=FULL");
    db_.exec("PRAGMA cache_size=-65536");  // 64 MiB page cache
    // Each batch runs in a savepoint, whose undo images (the sub-journal) would otherwise go to
    // a temporary file: one pwrite per page a batch first touches, most of the writer's time.
    db_.exec("PRAGMA temp_store=MEMORY");
    if (create) {
      db_.exec(kSchema);
      sqlite_console::ensure_schema(db_);
    } else {
      sql::Stmt check(db_, "SELECT count(*) FROM sqlite_master WHERE name='events'");
      if (!check.step() || check.i64(0) == 0)
        throw std::runtime_error(path + " is not a seatlock-collector database");
    }
    {
      sql::Stmt check(db_, "SELECT count(*) FROM sqlite_master WHERE name='rollup_kind'");
      has_rollups_ = check.step() && check.i64(0) > 0;
    }
    writer_.has_rollups = has_rollups_;
    if (background_checkpoint) {
      sqlite3_wal_autocheckpoint(db_.raw(), 0);
      checkpointer_ = std::thread([this] { checkpoint_loop(); });
    }
  }

  ~SqliteStore() override {
    if (checkpointer_.joinable()) {
      {
        std::lock_guard lk(ckpt_mu_);
        ckpt_stop_ = true;
      }
      ckpt_cv_.notify_one();
      checkpointer_.join();
    }
  }

  void checkpoint_loop() {
    try {
      sql::Db ck(path_);
      std::unique_lock lk(ckpt_mu_);
      while (!ckpt_stop_) {
        ckpt_cv_.wait_for(lk, std::chrono::milliseconds(500), [&] { return ckpt_stop_; });
        lk.unlock();
        sqlite3_wal_checkpoint_v2(ck.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        lk.lock();
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "seatlock-collector: checkpoints stopped: %s\n", e.what());
    }
  }

  std::unique_ptr<StoreTxn> begin() override { return sqlite_txn::begin(writer_); }

  void query(const EventFilter& f, const std::function<bool(const StoredEvent&)>& fn) override {
    std::string sql = std::string("SELECT ") + kEventCols + " FROM events WHERE 1=1";
    if (f.seat) sql += " AND seat_id = ?";
    if (f.user) sql += " AND user_name = ?";
    if (f.kind) sql += " AND kind = ?";
    if (f.severity) sql += " AND severity = ?";
    if (f.since_ms) sql += " AND time_ms >= ?";
    if (f.until_ms) sql += " AND time_ms < ?";
    sql += " ORDER BY time_ms, rowid";
    if (f.limit) sql += " LIMIT " + std::to_string(f.limit);
    std::lock_guard lk(mu_);
    sql::Stmt st(db_, sql.c_str());
    int i = 1;
    if (f.seat) st.bind(i++, *f.seat);
    if (f.user) st.bind(i++, *f.user);
    if (f.kind) st.bind(i++, *f.kind);
    if (f.severity) st.bind(i++, *f.severity);
    if (f.since_ms) st.bind(i++, *f.since_ms);
    if (f.until_ms) st.bind(i++, *f.until_ms);
    while (st.step())
      if (!fn(read_event(st))) break;
  }

  void scan_seat(const std::string& seat, std::optional<std::int64_t> since_ms,
                 std::optional<std::int64_t> until_ms,
                 const std::function<void(const StoredEvent&)>& fn) override {
    std::string sql = std::string("SELECT ") + kEventCols + " FROM events WHERE seat_id = ?1";
    if (since_ms) sql += " AND time_ms >= ?2";
    if (until_ms) sql += " AND time_ms < ?3";
    sql += " ORDER BY seq, rowid";
    std::lock_guard lk(mu_);
    sql::Stmt st(db_, sql.c_str());
    st.bind(1, seat);
    if (since_ms) st.bind(2, *since_ms);
    if (until_ms) st.bind(3, *until_ms);
    while (st.step()) fn(read_event(st));
  }

  std::optional<StoredEvent> event_at(const std::string& seat, std::uint64_t seq) override {
    std::lock_guard lk(mu_);
    sql::Stmt st(db_, (std::string("SELECT ") + kEventCols +
                       " FROM events WHERE seat_id=?1 AND seq=?2 LIMIT 1")
                          .c_str());
    st.bind(1, seat).bind(2, as_i64(seq));
    if (!st.step()) return std::nullopt;
    return read_event(st);
  }

  // Console queries read on connections of their own: a long export or a page never holds the
  // writer's lock (WAL readers do not wait for the writer, nor it for them).
  template <class Fn>
  auto with_reader(Fn&& fn) {
    std::unique_ptr<sql::Db> conn;
    {
      std::lock_guard lk(readers_mu_);
      if (!idle_readers_.empty()) {
        conn = std::move(idle_readers_.back());
        idle_readers_.pop_back();
      }
    }
    if (!conn) {
      conn = std::make_unique<sql::Db>(path_, sql::Db::Open::ReadOnly);
      conn->exec("PRAGMA cache_size=-32768");
    }
    struct Return {
      SqliteStore& s;
      std::unique_ptr<sql::Db>& c;
      ~Return() {
        std::lock_guard lk(s.readers_mu_);
        if (s.idle_readers_.size() < 4) s.idle_readers_.push_back(std::move(c));
      }
    } give_back{*this, conn};
    return fn(*conn);
  }

  void query_keyset(const EventFilter& f, bool descending, const std::optional<EventKey>& from,
                    const std::function<bool(const StoredEvent&)>& fn) override {
    with_reader([&](sql::Db& db) { sqlite_console::query_keyset(db, f, descending, from, fn); });
  }

  std::vector<ViolationBucket> violation_buckets(std::int64_t since_ms,
                                                 std::int64_t until_ms) override {
    if (!has_rollups_) return EventStore::violation_buckets(since_ms, until_ms);
    return with_reader(
        [&](sql::Db& db) { return sqlite_console::violation_buckets(db, since_ms, until_ms); });
  }

  std::vector<ViolationTotal> top_violators(bool by_user, std::int64_t since_ms,
                                            std::int64_t until_ms, std::size_t limit) override {
    if (!has_rollups_) return EventStore::top_violators(by_user, since_ms, until_ms, limit);
    return with_reader([&](sql::Db& db) {
      return sqlite_console::top_violators(db, by_user, since_ms, until_ms, limit);
    });
  }

  std::vector<SeatRecord> seats() override {
    std::lock_guard lk(mu_);
    sql::Stmt st(db_,
                 (std::string("SELECT ") + kSeatCols + " FROM seats ORDER BY seat_id").c_str());
    std::vector<SeatRecord> out;
    while (st.step()) out.push_back(read_seat(st));
    return out;
  }

  std::vector<Finding> findings(const std::optional<std::string>& seat) override {
    std::lock_guard lk(mu_);
    std::string sql = std::string("SELECT ") + kFindingCols + " FROM findings";
    if (seat) sql += " WHERE seat_id = ?1";
    sql += " ORDER BY seat_id, seq_from, id";
    sql::Stmt st(db_, sql.c_str());
    if (seat) st.bind(1, *seat);
    std::vector<Finding> out;
    while (st.step()) out.push_back(read_finding(st));
    return out;
  }

  std::vector<ChainHead> chain_heads(const std::string& seat) override {
    std::lock_guard lk(mu_);
    sql::Stmt st(db_,
                 "SELECT seat_id, seq, hash, pubkey, signature, received_ms FROM chain_heads "
                 "WHERE seat_id=?1 "
                 "ORDER BY seq");
    st.bind(1, seat);
    std::vector<ChainHead> out;
    while (st.step()) {
      out.push_back(ChainHead{st.text(0), static_cast<std::uint64_t>(st.i64(1)), st.text(2),
                              st.text(3), st.text(4), st.i64(5)});
    }
    return out;
  }

  // Tokens and refusals: sqlite_admin.cpp.
  void add_token(const std::string& token_hash, const std::string& seat,
                 const std::string& pubkey_b64) override {
    std::lock_guard lk(mu_);
    sqlite_admin::add_token(db_, token_hash, seat, pubkey_b64);
  }

  // Token checks run on connection threads while the writer holds `mu_` for a whole group
  // commit: they use their own connection (WAL readers do not wait for the writer) and read the
  // database every time, so a token revoked by another process stops working at once.
  std::optional<std::string> seat_for_token(const std::string& token_hash) override {
    std::lock_guard lk(auth_mu_);
    if (!auth_db_) auth_db_ = std::make_unique<sql::Db>(path_, sql::Db::Open::ReadOnly);
    return sqlite_admin::seat_for_token(*auth_db_, token_hash);
  }

  std::vector<TokenRecord> tokens() override {
    std::lock_guard lk(mu_);
    return sqlite_admin::tokens(db_);
  }

  std::size_t revoke_tokens(const std::function<bool(const TokenRecord&)>& match) override {
    std::lock_guard lk(mu_);
    return sqlite_admin::revoke_tokens(db_, match);
  }

  std::vector<SeatRefusal> refusals() override {
    std::lock_guard lk(mu_);
    return sqlite_admin::refusals(db_);
  }

  std::vector<AccountRecord> accounts() override {
    std::lock_guard lk(mu_);
    return sqlite_admin::accounts(db_);
  }

  void put_account(const AccountRecord& a) override {
    std::lock_guard lk(mu_);
    sqlite_admin::put_account(db_, a);
  }

  std::mutex auth_mu_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<sql::Db>> idle_readers_;
  bool has_rollups_ = false;
  std::unique_ptr<sql::Db> auth_db_;
  std::string path_;
  sql::Db db_;
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ = false;
  std::recursive_mutex
      mu_;  // one connection, one thread at a time (re-entered from scan callbacks)
  // The transactions' statements, prepared once (declared after db_: finalized before it closes).
  sqlite_txn::Writer writer_;
};

}  // namespace

std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, bool create,
                                              bool background_checkpoint) {
  if (!create) {
    struct stat sb;
    if (::stat(path.c_str(), &sb) != 0) throw std::runtime_error("no database at " + path);
  }
  return std::make_unique<SqliteStore>(path, create, background_checkpoint);
}

}  // namespace seatlock::collector
