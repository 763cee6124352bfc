#include "sqlite_admin.hpp"

namespace seatlock::collector::sqlite_admin {
namespace {

// Databases made before revocation existed lack this table.
constexpr const char* kRevokedTokensTable =
    "CREATE TABLE IF NOT EXISTS revoked_tokens(token_hash TEXT PRIMARY KEY, "
    "revoked_ms INTEGER NOT NULL)";

// Databases made before console accounts existed lack this table.
constexpr const char* kAccountsTable =
    "CREATE TABLE IF NOT EXISTS accounts(name TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "password_hash TEXT NOT NULL, disabled INTEGER NOT NULL, created_ms INTEGER NOT NULL, "
    "updated_ms INTEGER NOT NULL)";

// The console language (issue 15) came after the accounts table: added to older databases.
void ensure_accounts_table(sql::Db& db) {
  db.exec(kAccountsTable);
  sql::Stmt cols(db, "SELECT 1 FROM pragma_table_info('accounts') WHERE name = 'lang'");
  if (!cols.step()) db.exec("ALTER TABLE accounts ADD COLUMN lang TEXT NOT NULL DEFAULT ''");
}

}  // namespace

std::vector<AccountRecord> accounts(sql::Db& db) {
  ensure_accounts_table(db);
  sql::Stmt st(db,
               "SELECT name, role, password_hash, disabled, created_ms, updated_ms, lang "
               "FROM accounts ORDER BY name");
  std::vector<AccountRecord> out;
  while (st.step())
    out.push_back(AccountRecord{st.text(0), st.text(1), st.text(2), st.i64(3) != 0, st.i64(4),
                                st.i64(5), st.text(6)});
  return out;
}

void put_account(sql::Db& db, const AccountRecord& a) {
  ensure_accounts_table(db);
  sql::Stmt(db,
            "INSERT INTO accounts(name, role, password_hash, disabled, created_ms, updated_ms, "
            "lang) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET "
            "role = excluded.role, password_hash = excluded.password_hash, "
            "disabled = excluded.disabled, updated_ms = excluded.updated_ms, "
            "lang = excluded.lang")
      .bind(1, a.name)
      .bind(2, a.role)
      .bind(3, a.password_hash)
      .bind(4, static_cast<std::int64_t>(a.disabled ? 1 : 0))
      .bind(5, a.created_ms)
      .bind(6, a.updated_ms)
      .bind(7, a.lang)
      .run();
}

void add_token(sql::Db& db, const std::string& token_hash, const std::string& seat,
               const std::string& pubkey_b64) {
  db.exec("BEGIN IMMEDIATE");
  try {
    sql::Stmt(db,
              "INSERT INTO tokens(token_hash, seat_id, created_ms) VALUES(?1, ?2, "
              "strftime('%s','now')*1000)")
        .bind(1, token_hash)
        .bind(2, seat)
        .run();
    if (!pubkey_b64.empty()) {
      // A key registered at enrollment is pinned (replacing any earlier pin: an admin decision).
      sql::Stmt(db,
                "INSERT INTO seats(seat_id, pubkey) VALUES(?1, ?2) "
                "ON CONFLICT(seat_id) DO UPDATE SET pubkey = excluded.pubkey")
          .bind(1, seat)
          .bind(2, pubkey_b64)
          .run();
    }
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

std::optional<std::string> seat_for_token(sql::Db& db, const std::string& token_hash) {
  sql::Stmt st(db,
               "SELECT seat_id FROM tokens WHERE token_hash = ?1 AND NOT EXISTS "
               "(SELECT 1 FROM revoked_tokens r WHERE r.token_hash = tokens.token_hash)");
  st.bind(1, token_hash);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

std::vector<TokenRecord> tokens(sql::Db& db) {
  db.exec(kRevokedTokensTable);
  sql::Stmt st(db,
               "SELECT t.token_hash, t.seat_id, t.created_ms, COALESCE(r.revoked_ms, 0) FROM "
               "tokens t LEFT JOIN revoked_tokens r ON r.token_hash = t.token_hash "
               "ORDER BY t.seat_id, t.created_ms, t.token_hash");
  std::vector<TokenRecord> out;
  while (st.step()) out.push_back(TokenRecord{st.text(0), st.text(1), st.i64(2), st.i64(3)});
  return out;
}

std::size_t revoke_tokens(sql::Db& db, const std::function<bool(const TokenRecord&)>& match) {
  std::vector<TokenRecord> all = tokens(db);
  db.exec("BEGIN IMMEDIATE");
  std::size_t n = 0;
  try {
    for (const TokenRecord& t : all) {
      if (t.revoked_ms || !match(t)) continue;
      n += sql::Stmt(db,
                     "INSERT OR IGNORE INTO revoked_tokens(token_hash, revoked_ms) "
                     "VALUES(?1, CAST(strftime('%s','now') AS INTEGER)*1000)")
               .bind(1, t.token_hash)
               .run();
    }
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
  return n;
}

std::vector<SeatRefusal> refusals(sql::Db& db) {
  sql::Stmt check(db, "SELECT count(*) FROM sqlite_master WHERE name='seat_refusals'");
  if (!check.step() || check.i64(0) == 0) return {};  // a database from before refusals
  sql::Stmt st(db,
               "SELECT seat_id, last_ms, status, reason, count FROM seat_refusals "
               "ORDER BY seat_id");
  std::vector<SeatRefusal> out;
  while (st.step())
    out.push_back(SeatRefusal{st.text(0), st.i64(1), static_cast<int>(st.i64(2)), st.text(3),
                              static_cast<std::uint64_t>(st.i64(4))});
  return out;
}

}  // namespace seatlock::collector::sqlite_admin
