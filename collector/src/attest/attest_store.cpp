#include "attest/attest_store.hpp"

#include <sqlite3.h>

#include "os/sqlite/sqlite.hpp"

namespace seatlock::collector::attest {

std::string attest_db_path(const std::string& spec) {
  if (spec.rfind("sqlite:", 0) == 0) return spec.substr(7) + ".attest";
  if (spec.find(':') == std::string::npos || spec.rfind("/", 0) == 0) return spec + ".attest";
  return "";
}

AttestStore::AttestStore(const std::string& path) : db_(std::make_unique<sql::Db>(path)) {
  db_->exec("PRAGMA journal_mode=WAL");
  db_->exec("PRAGMA busy_timeout=5000");
  db_->exec(R"(CREATE TABLE IF NOT EXISTS attest_ak (
      seat TEXT PRIMARY KEY, ak_public TEXT NOT NULL, ek_public TEXT NOT NULL,
      ek_cert_status TEXT NOT NULL, pinned_ms INTEGER NOT NULL))");
  db_->exec(R"(CREATE TABLE IF NOT EXISTS attest_baseline (
      seat TEXT PRIMARY KEY, facts TEXT NOT NULL, ticket TEXT NOT NULL, set_ms INTEGER NOT NULL))");
  db_->exec(R"(CREATE TABLE IF NOT EXISTS attest_verdict (
      id INTEGER PRIMARY KEY AUTOINCREMENT, seat TEXT NOT NULL, time_ms INTEGER NOT NULL,
      result TEXT NOT NULL, verdict TEXT NOT NULL, facts TEXT NOT NULL))");
  db_->exec("CREATE INDEX IF NOT EXISTS attest_verdict_seat ON attest_verdict(seat, id)");
}

AttestStore::~AttestStore() = default;

void AttestStore::pin_ak(const PinnedAk& ak) {
  sql::Stmt st(*db_,
               "INSERT OR REPLACE INTO attest_ak(seat, ak_public, ek_public, ek_cert_status, "
               "pinned_ms) VALUES(?,?,?,?,?)");
  st.bind(1, ak.seat).bind(2, ak.ak_public).bind(3, ak.ek_public).bind(4, ak.ek_cert_status);
  st.bind(5, ak.pinned_ms).run();
}

std::optional<PinnedAk> AttestStore::pinned_ak(const std::string& seat) {
  sql::Stmt st(
      *db_, "SELECT ak_public, ek_public, ek_cert_status, pinned_ms FROM attest_ak WHERE seat=?");
  st.bind(1, seat);
  if (!st.step()) return std::nullopt;
  return PinnedAk{seat, st.text(0), st.text(1), st.text(2), st.i64(3)};
}

bool AttestStore::unpin_ak(const std::string& seat) {
  sql::Stmt st(*db_, "DELETE FROM attest_ak WHERE seat=?");
  return st.bind(1, seat).run() > 0;
}

void AttestStore::set_baseline(const BootBaseline& b) {
  sql::Stmt st(*db_,
               "INSERT OR REPLACE INTO attest_baseline(seat, facts, ticket, set_ms) "
               "VALUES(?,?,?,?)");
  st.bind(1, b.seat).bind(2, b.facts_json).bind(3, b.ticket).bind(4, b.set_ms).run();
}

std::optional<BootBaseline> AttestStore::baseline(const std::string& seat) {
  sql::Stmt st(*db_, "SELECT facts, ticket, set_ms FROM attest_baseline WHERE seat=?");
  st.bind(1, seat);
  if (!st.step()) return std::nullopt;
  return BootBaseline{seat, st.text(0), st.text(1), st.i64(2)};
}

void AttestStore::add_verdict(VerdictRecord& v) {
  sql::Stmt st(*db_,
               "INSERT INTO attest_verdict(seat, time_ms, result, verdict, facts) "
               "VALUES(?,?,?,?,?)");
  st.bind(1, v.seat).bind(2, v.time_ms).bind(3, v.result).bind(4, v.json).bind(5, v.facts_json);
  st.run();
  v.id = sqlite3_last_insert_rowid(db_->raw());
}

namespace {
VerdictRecord row(const sql::Stmt& st) {
  return VerdictRecord{st.i64(0), st.text(1), st.i64(2), st.text(3), st.text(4), st.text(5)};
}
}  // namespace

std::vector<VerdictRecord> AttestStore::verdicts(const std::string& seat, std::size_t limit) {
  sql::Stmt st(*db_,
               "SELECT id, seat, time_ms, result, verdict, facts FROM attest_verdict "
               "WHERE seat=? ORDER BY id DESC LIMIT ?");
  st.bind(1, seat).bind(2, limit ? static_cast<std::int64_t>(limit) : std::int64_t{-1});
  std::vector<VerdictRecord> out;
  while (st.step()) out.push_back(row(st));
  return out;
}

std::optional<VerdictRecord> AttestStore::last_proven(const std::string& seat) {
  sql::Stmt st(*db_,
               "SELECT id, seat, time_ms, result, verdict, facts FROM attest_verdict "
               "WHERE seat=? AND facts != '' ORDER BY id DESC LIMIT 1");
  st.bind(1, seat);
  if (!st.step()) return std::nullopt;
  return row(st);
}

}  // namespace seatlock::collector::attest
