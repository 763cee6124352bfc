#include "sqlite_txn.hpp"

#include "sqlite_schema.hpp"

namespace seatlock::collector::sqlite_txn {
namespace {

using namespace sqlite_schema;

class SqliteTxn : public StoreTxn {
 public:
  explicit SqliteTxn(Writer& w);
  ~SqliteTxn() override;
  bool insert_event(const StoredEvent& e) override;
  std::optional<std::string> line_by_id(const std::string& id) override;
  std::vector<StoredEvent> events_at(const std::string& seat, std::uint64_t seq) override;
  std::uint64_t count_in_range(const std::string& seat, std::uint64_t from,
                               std::uint64_t to) override;
  std::optional<SeatRecord> seat(const std::string& seat) override;
  void put_seat(const SeatRecord& s) override;
  void add_finding(const Finding& f) override;
  std::vector<Finding> open_gaps(const std::string& seat) override;
  void resolve_finding(std::int64_t id) override;
  void add_chain_head(const ChainHead& h) override;
  void note_refusal(const SeatRefusal& r) override;
  void savepoint() override;
  void release() override;
  void rollback_to() override;
  void commit() override;

 private:
  Writer& w_;
  std::unique_lock<std::recursive_mutex> lock_;
  bool done_ = false;
};

SqliteTxn::SqliteTxn(Writer& w) : w_(w), lock_(w.mu) {
  w_.stmt(w_.begin, "BEGIN IMMEDIATE").run();
}

SqliteTxn::~SqliteTxn() {
  if (!done_) {
    try {
      w_.db.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

bool SqliteTxn::insert_event(const StoredEvent& e) {
  auto& st = w_.stmt(w_.ins_event,
                     "INSERT OR IGNORE INTO events(id, seat_id, seq, time_ms, kind, severity, "
                     "user_name, chain_hash, "
                     "prev, line, received_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  // The event outlives run(): no copies of its strings (the line alone is ~600 bytes).
  st.bind_static(1, e.id)
      .bind_static(2, e.seat_id)
      .bind(3, as_i64(e.seq))
      .bind(4, e.time_ms)
      .bind_static(5, e.kind)
      .bind_static(6, e.severity);
  st.bind_static(7, e.user_name)
      .bind_static(8, e.chain_hash)
      .bind_static(9, e.prev)
      .bind_static(10, e.line)
      .bind(11, e.received_ms);
  if (st.run() != 1) return false;
  if (w_.has_rollups) {
    if (!w_.rollups) w_.rollups = std::make_unique<sqlite_console::RollupWriter>(w_.db.raw());
    w_.rollups->add(e);
  }
  return true;
}

std::optional<std::string> SqliteTxn::line_by_id(const std::string& id) {
  auto& st = w_.stmt(w_.line_by_id, "SELECT line FROM events WHERE id = ?1");
  st.bind(1, id);
  std::optional<std::string> out;
  if (st.step()) out = st.text(0);
  st.reset();
  return out;
}

std::vector<StoredEvent> SqliteTxn::events_at(const std::string& seat, std::uint64_t seq) {
  auto& st =
      w_.stmt(w_.events_at,
              "SELECT id, seat_id, seq, time_ms, kind, severity, user_name, chain_hash, prev, "
              "line, received_ms FROM events WHERE seat_id=?1 AND seq=?2 ORDER BY rowid");
  st.bind(1, seat).bind(2, as_i64(seq));
  std::vector<StoredEvent> out;
  while (st.step()) out.push_back(read_event(st));
  st.reset();
  return out;
}

std::uint64_t SqliteTxn::count_in_range(const std::string& seat, std::uint64_t from,
                                        std::uint64_t to) {
  auto& st =
      w_.stmt(w_.count_range,
              "SELECT count(DISTINCT seq) FROM events WHERE seat_id=?1 AND seq BETWEEN ?2 AND ?3");
  st.bind(1, seat).bind(2, as_i64(from)).bind(3, as_i64(to));
  st.step();
  auto n = static_cast<std::uint64_t>(st.i64(0));
  st.reset();
  return n;
}

std::optional<SeatRecord> SqliteTxn::seat(const std::string& seat) {
  auto& st =
      w_.stmt(w_.get_seat,
              "SELECT seat_id, pubkey, first_seen_ms, last_received_ms, last_seq, last_hash, "
              "last_event_ms, last_event_kind, last_heartbeat_ms, prev_heartbeat_ms FROM seats "
              "WHERE seat_id = ?1");
  st.bind(1, seat);
  std::optional<SeatRecord> out;
  if (st.step()) out = read_seat(st);
  st.reset();
  return out;
}

void SqliteTxn::put_seat(const SeatRecord& r) {
  auto& st =
      w_.stmt(w_.put_seat,
              "INSERT OR REPLACE INTO seats(seat_id, pubkey, first_seen_ms, last_received_ms, "
              "last_seq, last_hash, last_event_ms, last_event_kind, last_heartbeat_ms, "
              "prev_heartbeat_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  st.bind(1, r.seat_id).bind(2, r.pubkey_b64).bind(3, r.first_seen_ms).bind(4, r.last_received_ms);
  st.bind(5, as_i64(r.last_seq))
      .bind(6, r.last_hash)
      .bind(7, r.last_event_ms)
      .bind(8, r.last_event_kind);
  st.bind(9, r.last_heartbeat_ms).bind(10, r.prev_heartbeat_ms);
  st.run();
}

void SqliteTxn::add_finding(const Finding& f) {
  auto& st = w_.stmt(w_.add_finding,
                     "INSERT INTO findings(seat_id, seq_from, seq_to, kind, detail, found_ms, "
                     "resolved) VALUES(?1,?2,?3,?4,?5,?6,?7)");
  st.bind(1, f.seat_id)
      .bind(2, as_i64(f.seq_from))
      .bind(3, as_i64(f.seq_to))
      .bind(4, f.kind)
      .bind(5, f.detail);
  st.bind(6, f.found_ms).bind(7, std::int64_t{f.resolved ? 1 : 0});
  st.run();
}

std::vector<Finding> SqliteTxn::open_gaps(const std::string& seat) {
  auto& st = w_.stmt(w_.open_gaps,
                     "SELECT id, seat_id, seq_from, seq_to, kind, detail, found_ms, resolved FROM "
                     "findings WHERE seat_id=?1 AND kind='gap' AND resolved=0");
  st.bind(1, seat);
  std::vector<Finding> out;
  while (st.step()) out.push_back(read_finding(st));
  st.reset();
  return out;
}

void SqliteTxn::resolve_finding(std::int64_t id) {
  w_.stmt(w_.resolve, "UPDATE findings SET resolved = 1 WHERE id = ?1").bind(1, id).run();
}

void SqliteTxn::add_chain_head(const ChainHead& h) {
  auto& st = w_.stmt(w_.add_head,
                     "INSERT OR IGNORE INTO chain_heads(seat_id, seq, hash, pubkey, signature, "
                     "received_ms) VALUES(?1,?2,?3,?4,?5,?6)");
  st.bind(1, h.seat_id)
      .bind(2, as_i64(h.seq))
      .bind(3, h.hash)
      .bind(4, h.pubkey_b64)
      .bind(5, h.signature_b64);
  st.bind(6, h.received_ms);
  st.run();
}

void SqliteTxn::note_refusal(const SeatRefusal& r) {
  auto& st = w_.stmt(w_.note_refusal,
                     "INSERT INTO seat_refusals(seat_id, last_ms, status, reason, count) "
                     "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(seat_id) DO UPDATE SET "
                     "last_ms = excluded.last_ms, status = excluded.status, "
                     "reason = excluded.reason, count = count + excluded.count");
  st.bind(1, r.seat_id).bind(2, r.last_ms).bind(3, std::int64_t{r.status}).bind(4, r.reason);
  st.bind(5, as_i64(r.count));
  st.run();
}

// Prepared once: sqlite3_exec would parse the SQL again for every batch of a group commit.
void SqliteTxn::savepoint() {
  w_.stmt(w_.savepoint, "SAVEPOINT batch").run();
}
void SqliteTxn::release() {
  w_.stmt(w_.release, "RELEASE batch").run();
}
void SqliteTxn::rollback_to() {
  w_.stmt(w_.rollback_to, "ROLLBACK TO batch").run();
  w_.stmt(w_.release, "RELEASE batch").run();
}
void SqliteTxn::commit() {
  w_.stmt(w_.commit, "COMMIT").run();
  done_ = true;
}

}  // namespace

std::unique_ptr<StoreTxn> begin(Writer& w) {
  return std::make_unique<SqliteTxn>(w);
}

}  // namespace seatlock::collector::sqlite_txn
