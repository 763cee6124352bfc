#include "clickhouse_schema.hpp"

namespace seatlock::collector::clickhouse_schema {

// The newest version of an account (updated_ms) wins, at merge time and in reads (argMax).
const char* const kAccountsTable =
    "CREATE TABLE IF NOT EXISTS accounts (name String, role String, password_hash String, "
    "disabled UInt8, created_ms Int64, updated_ms Int64) "
    "ENGINE = ReplacingMergeTree(updated_ms) ORDER BY name";

const char* const kEventCols =
    "id, seat_id, seq, time_ms, kind, severity, user_name, chain_hash, prev, line, received_ms";

namespace {

const char* const kTables[] = {
    "CREATE TABLE IF NOT EXISTS events (seat_id String, time_ms Int64, seq UInt64, id String, "
    "kind String, severity String, user_name String, chain_hash String, prev String, line "
    "String, received_ms Int64) ENGINE = ReplacingMergeTree "
    "PARTITION BY toYYYYMM(toDate(toDateTime(intDiv(greatest(time_ms, 0), 1000)))) "
    "ORDER BY (seat_id, time_ms, seq, id) SETTINGS index_granularity = 1024",
    "CREATE TABLE IF NOT EXISTS chain_heads (seat_id String, seq UInt64, hash String, pubkey "
    "String, signature String, received_ms Int64) ENGINE = ReplacingMergeTree "
    "ORDER BY (seat_id, seq, hash)",
    "CREATE TABLE IF NOT EXISTS seat_marks (seat_id String, last_seq UInt64, last_hash String) "
    "ENGINE = ReplacingMergeTree(last_seq) ORDER BY seat_id",
    "CREATE TABLE IF NOT EXISTS seat_contacts (seat_id String, received_ms Int64) "
    "ENGINE = ReplacingMergeTree(received_ms) ORDER BY seat_id",
    "CREATE TABLE IF NOT EXISTS seat_keys (seat_id String, pubkey String, set_ms Int64, "
    "enrolled UInt8) ENGINE = MergeTree ORDER BY (seat_id, set_ms)",
    "CREATE TABLE IF NOT EXISTS findings (id UInt64, seat_id String, seq_from UInt64, seq_to "
    "UInt64, kind String, detail String, found_ms Int64) ENGINE = ReplacingMergeTree "
    "ORDER BY (seat_id, seq_from, id)",
    "CREATE TABLE IF NOT EXISTS finding_resolutions (id UInt64, resolved_ms Int64) "
    "ENGINE = ReplacingMergeTree ORDER BY id",
    "CREATE TABLE IF NOT EXISTS tokens (token_hash String, seat_id String, created_ms Int64) "
    "ENGINE = ReplacingMergeTree ORDER BY token_hash",
    "CREATE TABLE IF NOT EXISTS revoked_tokens (token_hash String, revoked_ms Int64) "
    "ENGINE = ReplacingMergeTree ORDER BY token_hash",
    kAccountsTable,
    "CREATE TABLE IF NOT EXISTS seat_refusals (seat_id String, last_ms Int64, status Int32, "
    "reason String, count UInt64) ENGINE = MergeTree ORDER BY (seat_id, last_ms)",
};

}  // namespace

void create(const ClickHouseHttp& ch) {
  ch.exec("CREATE DATABASE IF NOT EXISTS " + ch.endpoint().database, /*in_database=*/false);
  for (const char* sql : kTables) ch.exec(sql);
}

bool exists(const ClickHouseHttp& ch) {
  auto rows = ch.select_all("SELECT count() FROM system.tables WHERE database = " +
                                ch_quote(ch.endpoint().database) + " AND name = 'events'",
                            /*in_database=*/false);
  return !rows.empty() && rows[0].at(0) == "1";
}

}  // namespace seatlock::collector::clickhouse_schema
