#pragma once
// The SQLite store's enrollment tokens and refused-batch records (admin data, not evidence).
// Callers serialise access to `db` (SqliteStore holds its lock).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sqlite_db.hpp"
#include "store.hpp"

namespace seatlock::collector::sqlite_admin {

// Stores the token hash; a key given at enrollment is pinned (replacing any earlier pin).
void add_token(SqliteDb& db, const std::string& token_hash, const std::string& seat,
               const std::string& pubkey_b64);
std::optional<std::string> seat_for_token(SqliteDb& db, const std::string& token_hash);
std::vector<TokenRecord> tokens(SqliteDb& db);
std::size_t revoke_tokens(SqliteDb& db, const std::function<bool(const TokenRecord&)>& match);
std::vector<SeatRefusal> refusals(SqliteDb& db);
std::vector<AccountRecord> accounts(SqliteDb& db);
void put_account(SqliteDb& db, const AccountRecord& a);

}  // namespace seatlock::collector::sqlite_admin
