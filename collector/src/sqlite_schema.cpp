#include "sqlite_schema.hpp"

namespace seatlock::collector::sqlite_schema {

const char* const kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS events(
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  seat_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  user_name TEXT NOT NULL DEFAULT '',
  chain_hash TEXT NOT NULL,
  prev TEXT NOT NULL,
  line TEXT NOT NULL,
  received_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_seat_seq ON events(seat_id, seq);
CREATE INDEX IF NOT EXISTS events_seat_time ON events(seat_id, time_ms);
CREATE INDEX IF NOT EXISTS events_time ON events(time_ms);
CREATE TABLE IF NOT EXISTS seats(
  seat_id TEXT PRIMARY KEY,
  pubkey TEXT NOT NULL DEFAULT '',
  first_seen_ms INTEGER NOT NULL DEFAULT 0,
  last_received_ms INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_hash TEXT NOT NULL DEFAULT '',
  last_event_ms INTEGER NOT NULL DEFAULT 0,
  last_event_kind TEXT NOT NULL DEFAULT '',
  last_heartbeat_ms INTEGER NOT NULL DEFAULT 0,
  prev_heartbeat_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS findings(
  id INTEGER PRIMARY KEY,
  seat_id TEXT NOT NULL,
  seq_from INTEGER NOT NULL,
  seq_to INTEGER NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  found_ms INTEGER NOT NULL,
  resolved INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS findings_seat ON findings(seat_id, kind, resolved);
CREATE TABLE IF NOT EXISTS chain_heads(
  seat_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  pubkey TEXT NOT NULL,
  signature TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY(seat_id, seq, hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens(
  token_hash TEXT PRIMARY KEY,
  seat_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_tokens(
  token_hash TEXT PRIMARY KEY,
  revoked_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seat_refusals(
  seat_id TEXT PRIMARY KEY,
  last_ms INTEGER NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  count INTEGER NOT NULL);
)SQL";

const char* const kEventCols =
    "id, seat_id, seq, time_ms, kind, severity, user_name, chain_hash, prev, line, received_ms";

StoredEvent read_event(const sql::Stmt& s) {
  StoredEvent e;
  e.id = s.text(0);
  e.seat_id = s.text(1);
  e.seq = static_cast<std::uint64_t>(s.i64(2));
  e.time_ms = s.i64(3);
  e.kind = s.text(4);
  e.severity = s.text(5);
  e.user_name = s.text(6);
  e.chain_hash = s.text(7);
  e.prev = s.text(8);
  e.line = s.text(9);
  e.received_ms = s.i64(10);
  return e;
}

SeatRecord read_seat(const sql::Stmt& s) {
  SeatRecord r;
  r.seat_id = s.text(0);
  r.pubkey_b64 = s.text(1);
  r.first_seen_ms = s.i64(2);
  r.last_received_ms = s.i64(3);
  r.last_seq = static_cast<std::uint64_t>(s.i64(4));
  r.last_hash = s.text(5);
  r.last_event_ms = s.i64(6);
  r.last_event_kind = s.text(7);
  r.last_heartbeat_ms = s.i64(8);
  r.prev_heartbeat_ms = s.i64(9);
  return r;
}
const char* const kSeatCols =
    "seat_id, pubkey, first_seen_ms, last_received_ms, last_seq, last_hash, last_event_ms, "
    "last_event_kind, "
    "last_heartbeat_ms, prev_heartbeat_ms";

Finding read_finding(const sql::Stmt& s) {
  Finding f;
  f.id = s.i64(0);
  f.seat_id = s.text(1);
  f.seq_from = static_cast<std::uint64_t>(s.i64(2));
  f.seq_to = static_cast<std::uint64_t>(s.i64(3));
  f.kind = s.text(4);
  f.detail = s.text(5);
  f.found_ms = s.i64(6);
  f.resolved = s.i64(7) != 0;
  return f;
}
const char* const kFindingCols = "id, seat_id, seq_from, seq_to, kind, detail, found_ms, resolved";

}  // namespace seatlock::collector::sqlite_schema
