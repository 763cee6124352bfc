#include "clickhouse_store.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "clickhouse_console.hpp"
#include "clickhouse_rows.hpp"
#include "clickhouse_schema.hpp"
#include "clickhouse_token_cache.hpp"
#include "clickhouse_txn.hpp"

namespace seatlock::collector {
namespace {

namespace rows = clickhouse_rows;
using clickhouse_schema::kEventCols;

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string time_bounds(std::optional<std::int64_t> since, std::optional<std::int64_t> until) {
  std::string w;
  if (since) w += " AND time_ms >= " + std::to_string(*since);
  if (until) w += " AND time_ms < " + std::to_string(*until);
  return w;
}

class ClickHouseStore : public EventStore {
 public:
  explicit ClickHouseStore(ClickHouseEndpoint ep)
      : ch_(std::move(ep)),
        tokens_([this](const std::string& h) { return lookup_token(h); },
                [this] { return revoked_token_count(); }) {}
  const ClickHouseHttp& http() const { return ch_; }

  std::unique_ptr<StoreTxn> begin() override { return begin_clickhouse_txn(ch_); }

  // Copies of one event (written by two instances, or by a retry after an instance died) that
  // are not merged yet are seen once. query() de-duplicates in the query instead of with FINAL:
  // on 18.16 FINAL is a single-threaded merge of every part in range (one seat's day out of 10
  // million events in 8192-row granules: 51-67 ms and 17.8 MiB read, 5 ms and 1.3 MiB this
  // way; docs/clickhouse.md). LIMIT 1 BY the sorting key (FINAL's unit) after the
  // ORDER BY keeps the first-received copy, as SQLite's INSERT OR IGNORE does. All filters are
  // PREWHERE: the big `line` column is read only for granules that hold matching rows.
  void query(const EventFilter& f, const std::function<bool(const StoredEvent&)>& fn) override {
    std::string where;  // " AND ..." conditions
    if (f.seat) where += " AND seat_id = " + ch_quote(*f.seat);
    where += time_bounds(f.since_ms, f.until_ms);
    if (f.user) where += " AND user_name = " + ch_quote(*f.user);
    if (f.kind) where += " AND kind = " + ch_quote(*f.kind);
    if (f.severity) where += " AND severity = " + ch_quote(*f.severity);
    std::string sql = std::string("SELECT ") + kEventCols + " FROM events";
    if (!where.empty()) sql += " PREWHERE" + where.substr(4);
    sql += " ORDER BY time_ms, received_ms, seat_id, seq, id LIMIT 1 BY seat_id, time_ms, seq, id";
    if (f.limit) sql += " LIMIT " + std::to_string(f.limit);
    bool more = true;
    ch_.select(sql, [&](const rows::Row& r) {
      if (more) more = fn(rows::event(r));  // the rest of the stream is drained unread
    });
  }

  // Console paging and overview counts: clickhouse_console.cpp (de-duplicated as query()).
  void query_keyset(const EventFilter& f, bool descending, const std::optional<EventKey>& from,
                    const std::function<bool(const StoredEvent&)>& fn) override {
    clickhouse_console::query_keyset(ch_, f, descending, from, fn);
  }
  std::vector<ViolationBucket> violation_buckets(std::int64_t since_ms,
                                                 std::int64_t until_ms) override {
    return clickhouse_console::violation_buckets(ch_, since_ms, until_ms);
  }
  std::vector<ViolationTotal> top_violators(bool by_user, std::int64_t since_ms,
                                            std::int64_t until_ms, std::size_t limit) override {
    return clickhouse_console::top_violators(ch_, by_user, since_ms, until_ms, limit);
  }

  // FINAL everywhere else events are read (same reason as above).
  void scan_seat(const std::string& seat, std::optional<std::int64_t> since_ms,
                 std::optional<std::int64_t> until_ms,
                 const std::function<void(const StoredEvent&)>& fn) override {
    ch_.select(std::string("SELECT ") + kEventCols +
                   " FROM events FINAL WHERE seat_id = " + ch_quote(seat) +
                   time_bounds(since_ms, until_ms) + " ORDER BY seq, received_ms, id",
               [&](const rows::Row& r) { fn(rows::event(r)); });
  }

  std::optional<StoredEvent> event_at(const std::string& seat, std::uint64_t seq) override {
    auto r = ch_.select_all(std::string("SELECT ") + kEventCols +
                            " FROM events FINAL WHERE seat_id = " + ch_quote(seat) + " AND seq = " +
                            std::to_string(seq) + " ORDER BY received_ms, id LIMIT 1");
    if (r.empty()) return std::nullopt;
    return rows::event(r[0]);
  }

  std::vector<SeatRecord> seats() override { return rows::load_seats(ch_, std::nullopt); }

  std::vector<Finding> findings(const std::optional<std::string>& seat) override {
    std::vector<Finding> out;
    ch_.select(std::string("SELECT ") + rows::kFindingCols + " FROM findings FINAL" +
                   (seat ? " WHERE seat_id = " + ch_quote(*seat) : "") +
                   " ORDER BY seat_id, seq_from, id",
               [&](const rows::Row& r) { out.push_back(rows::finding(r)); });
    return out;
  }

  std::vector<ChainHead> chain_heads(const std::string& seat) override {
    std::vector<ChainHead> out;
    ch_.select(
        "SELECT seat_id, seq, hash, pubkey, signature, received_ms FROM chain_heads FINAL "
        "WHERE seat_id = " +
            ch_quote(seat) + " ORDER BY seq, hash",
        [&](const rows::Row& r) {
          out.push_back(ChainHead{r.at(0), rows::u64(r.at(1)), r.at(2), r.at(3), r.at(4),
                                  rows::i64(r.at(5))});
        });
    return out;
  }

  void add_token(const std::string& token_hash, const std::string& seat,
                 const std::string& pubkey_b64) override {
    std::int64_t now = wall_ms();
    // The key first: a token must never work for a seat whose registered key is not pinned yet.
    if (!pubkey_b64.empty())
      ch_.insert_json_rows(
          "seat_keys",
          nlohmann::json{
              {"seat_id", seat}, {"pubkey", pubkey_b64}, {"set_ms", now}, {"enrolled", 1}}
                  .dump() +
              "\n");
    ch_.insert_json_rows(
        "tokens",
        nlohmann::json{{"token_hash", token_hash}, {"seat_id", seat}, {"created_ms", now}}.dump() +
            "\n");
  }

  // Answered from the collector's cache (clickhouse_token_cache.hpp: revocations are seen within
  // 2 seconds on every instance, at once after SIGHUP).
  std::optional<std::string> seat_for_token(const std::string& token_hash) override {
    return tokens_.seat_for(token_hash);
  }
  void forget_cached_tokens() override { tokens_.forget(); }

  std::optional<std::string> lookup_token(const std::string& token_hash) {
    auto r =
        ch_.select_all("SELECT seat_id FROM tokens WHERE token_hash = " + ch_quote(token_hash) +
                       " AND token_hash NOT IN (SELECT token_hash FROM revoked_tokens) "
                       "LIMIT 1");
    if (r.empty()) return std::nullopt;
    return r[0].at(0);
  }

  // Only grows: a revocation adds a token never revoked before; merging copies changes nothing.
  std::uint64_t revoked_token_count() {
    return rows::u64(
        ch_.select_all("SELECT uniqExact(token_hash) FROM revoked_tokens").at(0).at(0));
  }

  std::vector<TokenRecord> tokens() override {
    std::map<std::string, std::int64_t> revoked;
    ch_.select("SELECT token_hash, min(revoked_ms) FROM revoked_tokens GROUP BY token_hash",
               [&](const rows::Row& r) { revoked[r.at(0)] = rows::i64(r.at(1)); });
    std::vector<TokenRecord> out;
    ch_.select(
        "SELECT token_hash, any(seat_id), min(created_ms) AS c FROM tokens GROUP BY "
        "token_hash ORDER BY any(seat_id), c, token_hash",
        [&](const rows::Row& r) {
          auto it = revoked.find(r.at(0));
          out.push_back(TokenRecord{r.at(0), r.at(1), rows::i64(r.at(2)),
                                    it == revoked.end() ? 0 : it->second});
        });
    return out;
  }

  std::size_t revoke_tokens(const std::function<bool(const TokenRecord&)>& match) override {
    std::string out;
    std::size_t n = 0;
    std::int64_t now = wall_ms();
    for (const TokenRecord& t : tokens()) {
      if (t.revoked_ms || !match(t)) continue;
      out += nlohmann::json{{"token_hash", t.token_hash}, {"revoked_ms", now}}.dump() + "\n";
      ++n;
    }
    ch_.insert_json_rows("revoked_tokens", out);
    tokens_.forget();
    return n;
  }

  std::vector<SeatRefusal> refusals() override {
    std::vector<SeatRefusal> out;
    ch_.select(
        "SELECT seat_id, max(last_ms), argMax(status, last_ms), argMax(reason, last_ms), "
        "sum(count) FROM seat_refusals GROUP BY seat_id ORDER BY seat_id",
        [&](const rows::Row& r) {
          out.push_back(SeatRefusal{r.at(0), rows::i64(r.at(1)),
                                    static_cast<int>(rows::i64(r.at(2))), r.at(3),
                                    rows::u64(r.at(4))});
        });
    return out;
  }

  // The table is made on first use too: databases created before accounts existed lack it.
  std::vector<AccountRecord> accounts() override {
    ensure_accounts_table();
    std::vector<AccountRecord> out;
    ch_.select(
        "SELECT name, argMax(role, updated_ms), argMax(password_hash, updated_ms), "
        "argMax(disabled, updated_ms), min(created_ms), max(updated_ms), "
        "argMax(lang, updated_ms) FROM accounts GROUP BY name ORDER BY name",
        [&](const rows::Row& r) {
          out.push_back(AccountRecord{r.at(0), r.at(1), r.at(2), rows::u64(r.at(3)) != 0,
                                      rows::i64(r.at(4)), rows::i64(r.at(5)), r.at(6)});
        });
    return out;
  }

  void put_account(const AccountRecord& a) override {
    ensure_accounts_table();
    ch_.insert_json_rows("accounts", nlohmann::json{{"name", a.name},
                                                    {"role", a.role},
                                                    {"password_hash", a.password_hash},
                                                    {"disabled", a.disabled ? 1 : 0},
                                                    {"created_ms", a.created_ms},
                                                    {"updated_ms", a.updated_ms},
                                                    {"lang", a.lang}}
                                             .dump() +
                                         "\n");
  }

  // Once per process: the table (databases older than accounts lack it) and its console
  // language column (issue 15; tables made before it lack that).
  void ensure_accounts_table() {
    std::call_once(accounts_ready_, [this] {
      ch_.exec(clickhouse_schema::kAccountsTable);
      // Debian's ClickHouse has no ADD COLUMN IF NOT EXISTS: look first.
      bool has_lang = false;
      ch_.select(
          "SELECT name FROM system.columns WHERE database = currentDatabase() AND "
          "table = 'accounts' AND name = 'lang'",
          [&](const rows::Row&) { has_lang = true; });
      if (!has_lang) ch_.exec("ALTER TABLE accounts ADD COLUMN lang String DEFAULT ''");
    });
  }

 private:
  ClickHouseHttp ch_;
  TokenCache tokens_;
  std::once_flag accounts_ready_;
};

}  // namespace

std::unique_ptr<EventStore> open_clickhouse_store(const ClickHouseEndpoint& ep, bool create) {
  auto store = std::make_unique<ClickHouseStore>(ep);
  if (create)
    clickhouse_schema::create(store->http());
  else if (!clickhouse_schema::exists(store->http()))
    throw std::runtime_error("no seatlock-collector database \"" + ep.database + "\" at " +
                             ep.base_url);
  return store;
}

}  // namespace seatlock::collector
