#include "os/spool/spool_rows.hpp"

#include "core/event/event.hpp"

namespace seatlock {

const char* to_string(SpoolState s) {
  switch (s) {
    case SpoolState::Queued:
      return "queued";
    case SpoolState::Delivered:
      return "delivered";
    case SpoolState::Quarantined:
      return "quarantined";
    case SpoolState::SetAside:
      return "set-aside";
  }
  return "unknown";
}

namespace spool_detail {

void create_schema(sql::Db& db) {
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec(
      "CREATE TABLE IF NOT EXISTS head("
      " one INTEGER PRIMARY KEY CHECK (one = 1),"
      " seq INTEGER NOT NULL,"        // seq of the last event ever appended
      " hash TEXT NOT NULL,"          // its chain hash (the next event's prev)
      " bytes INTEGER NOT NULL,"      // sum of size over stored rows
      " dropped INTEGER NOT NULL)");  // rows lost to overflow, ever
  db.exec("INSERT OR IGNORE INTO head VALUES (1, 0, '" + std::string(kGenesisPrev) + "', 0, 0)");
  db.exec(
      "CREATE TABLE IF NOT EXISTS events("
      " seq INTEGER PRIMARY KEY,"
      " id TEXT NOT NULL,"
      " time INTEGER NOT NULL,"
      " seat TEXT NOT NULL,"
      " kind TEXT NOT NULL,"
      " severity TEXT NOT NULL,"
      " keep INTEGER NOT NULL,"   // 1 = violation or overflow record: dropped only as a last resort
      " state INTEGER NOT NULL,"  // SpoolState
      " size INTEGER NOT NULL,"
      " body TEXT NOT NULL,"
      " note TEXT)");
  db.exec("CREATE INDEX IF NOT EXISTS events_queued ON events(seq) WHERE state = 0");
}

SpoolStats read_stats(sql::Db& db) {
  SpoolStats s;
  sql::Stmt head(db, "SELECT seq, hash, bytes, dropped FROM head WHERE one = 1");
  if (head.step()) {
    s.head_seq = static_cast<std::uint64_t>(head.i64(0));
    s.head_hash = head.text(1);
    s.bytes = static_cast<std::uint64_t>(head.i64(2));
    s.dropped = static_cast<std::uint64_t>(head.i64(3));
  }
  sql::Stmt counts(db, "SELECT state, count(*) FROM events GROUP BY state");
  while (counts.step()) {
    auto n = static_cast<std::uint64_t>(counts.i64(1));
    switch (static_cast<SpoolState>(counts.i64(0))) {
      case SpoolState::Queued:
        s.queued = n;
        break;
      case SpoolState::Delivered:
        s.delivered = n;
        break;
      case SpoolState::Quarantined:
        s.quarantined = n;
        break;
      case SpoolState::SetAside:
        s.set_aside = n;
        break;
    }
  }
  return s;
}

SpooledEvent read_row(const sql::Stmt& st) {
  SpooledEvent r;
  r.seq = static_cast<std::uint64_t>(st.i64(0));
  r.id = st.text(1);
  r.time = st.i64(2);
  r.seat_id = st.text(3);
  r.kind = st.text(4);
  r.severity = st.text(5);
  r.state = static_cast<SpoolState>(st.i64(6));
  r.body = st.text(7);
  r.note = st.text(8);
  return r;
}

std::vector<SpooledEvent> query(sql::Db& db, const SpoolQuery& q) {
  std::string sql =
      std::string("SELECT ") + kRowColumns + " FROM events WHERE seq > ?1 AND time >= ?2";
  if (!q.kind.empty()) sql += " AND kind = ?3";
  sql += " ORDER BY seq";
  if (q.limit) sql += " LIMIT " + std::to_string(q.limit);
  sql::Stmt st(db, sql);
  st.bind(1, static_cast<std::int64_t>(q.after_seq)).bind(2, q.since);
  if (!q.kind.empty()) st.bind(3, q.kind);
  std::vector<SpooledEvent> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

}  // namespace spool_detail
}  // namespace seatlock
