#pragma once
// The SQLite store's enrollment tokens and refused-batch records (admin data, not evidence).
// Callers serialise access to `db` (SqliteStore holds its lock).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "os/sqlite/sqlite.hpp"
#include "store.hpp"

namespace seatlock::collector::sqlite_admin {

// Stores the token hash; a key given at enrollment is pinned (replacing any earlier pin).
void add_token(sql::Db& db, const std::string& token_hash, const std::string& seat,
               const std::string& pubkey_b64);
std::optional<std::string> seat_for_token(sql::Db& db, const std::string& token_hash);
std::vector<TokenRecord> tokens(sql::Db& db);
std::size_t revoke_tokens(sql::Db& db, const std::function<bool(const TokenRecord&)>& match);
std::vector<SeatRefusal> refusals(sql::Db& db);
std::vector<AccountRecord> accounts(sql::Db& db);
void put_account(sql::Db& db, const AccountRecord& a);

}  // namespace seatlock::collector::sqlite_admin
