#include "clickhouse_rows.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

namespace seatlock::collector::clickhouse_rows {

const char* const kFindingCols =
    "id, seat_id, seq_from, seq_to, kind, detail, found_ms, "
    "id IN (SELECT id FROM finding_resolutions) AS resolved";

std::int64_t i64(const std::string& f) {
  try {
    return std::stoll(f);
  } catch (const std::exception&) {
    throw std::runtime_error("clickhouse: expected an integer, got \"" + f.substr(0, 40) + "\"");
  }
}

std::uint64_t u64(const std::string& f) {
  try {
    return std::stoull(f);
  } catch (const std::exception&) {
    throw std::runtime_error("clickhouse: expected an integer, got \"" + f.substr(0, 40) + "\"");
  }
}

StoredEvent event(const Row& r) {
  if (r.size() != 11) throw std::runtime_error("clickhouse: event row with wrong column count");
  StoredEvent e;
  e.id = r[0];
  e.seat_id = r[1];
  e.seq = u64(r[2]);
  e.time_ms = i64(r[3]);
  e.kind = r[4];
  e.severity = r[5];
  e.user_name = r[6];
  e.chain_hash = r[7];
  e.prev = r[8];
  e.line = r[9];
  e.received_ms = i64(r[10]);
  return e;
}

Finding finding(const Row& r) {
  if (r.size() != 8) throw std::runtime_error("clickhouse: finding row with wrong column count");
  return Finding{static_cast<std::int64_t>(u64(r[0])),
                 r[1],
                 u64(r[2]),
                 u64(r[3]),
                 r[4],
                 r[5],
                 i64(r[6]),
                 r[7] == "1"};
}

namespace {
// Rows in set_ms order: the newest enrollment key wins, else the first key presented.
void pick_key(std::pair<bool, std::string>& k, const std::string& key, bool enrolled) {
  if (enrolled || (!k.first && k.second.empty())) k = {enrolled || k.first, key};
}
}  // namespace

std::vector<SeatRecord> load_seats(const ClickHouseHttp& ch,
                                   const std::optional<std::string>& seat) {
  std::string where = seat ? " WHERE seat_id = " + ch_quote(*seat) : " WHERE 1";
  std::map<std::string, SeatRecord> by_id;
  auto rec = [&](const std::string& id) -> SeatRecord& {
    SeatRecord& s = by_id[id];
    s.seat_id = id;
    return s;
  };
  ch.select(
      "SELECT seat_id, max(seq), argMax(chain_hash, seq), min(received_ms), max(time_ms), "
      "argMax(kind, time_ms) FROM events" +
          where + " GROUP BY seat_id",
      [&](const Row& r) {
        SeatRecord& s = rec(r.at(0));
        s.last_seq = u64(r.at(1));
        s.last_hash = r.at(2);
        s.first_seen_ms = i64(r.at(3));
        s.last_event_ms = i64(r.at(4));
        s.last_event_kind = r.at(5);
      });
  // The highest seq acknowledged: an event deleted from the end still counts as expected.
  ch.select("SELECT seat_id, max(last_seq), argMax(last_hash, last_seq) FROM seat_marks" + where +
                " GROUP BY seat_id",
            [&](const Row& r) {
              SeatRecord& s = rec(r.at(0));
              if (u64(r.at(1)) > s.last_seq) {
                s.last_seq = u64(r.at(1));
                s.last_hash = r.at(2);
              }
            });
  ch.select("SELECT seat_id, max(received_ms) FROM seat_contacts" + where + " GROUP BY seat_id",
            [&](const Row& r) { rec(r.at(0)).last_received_ms = i64(r.at(1)); });
  // Pinned key: the newest enrollment key, else the first key the seat presented.
  std::map<std::string, std::pair<bool, std::string>> keys;
  ch.select("SELECT seat_id, pubkey, enrolled FROM seat_keys" + where + " ORDER BY seat_id, set_ms",
            [&](const Row& r) {
              auto& k = keys[r.at(0)];
              bool enrolled = r.at(2) == "1";
              if (enrolled || (!k.first && k.second.empty())) k = {enrolled || k.first, r.at(1)};
            });
  for (auto& [id, k] : keys) rec(id).pubkey_b64 = k.second;
  ch.select("SELECT seat_id, time_ms FROM (SELECT DISTINCT seat_id, time_ms FROM events" + where +
                " AND kind = 'agent.heartbeat' ORDER BY seat_id, time_ms DESC LIMIT 2 BY seat_id)",
            [&](const Row& r) {
              SeatRecord& s = rec(r.at(0));
              if (s.last_heartbeat_ms == 0)
                s.last_heartbeat_ms = i64(r.at(1));
              else
                s.prev_heartbeat_ms = i64(r.at(1));
            });
  std::vector<SeatRecord> out;
  for (auto& [id, s] : by_id) out.push_back(std::move(s));
  return out;
}

std::optional<SeatRecord> load_seat_for_ingest(const ClickHouseHttp& ch, const std::string& seat) {
  const std::string q = ch_quote(seat);
  // One statement, rows tagged by source: e = events, m = seat_marks, k = seat_keys.
  std::string sql =
      "SELECT 'e' AS src, toString(max(seq)), argMax(chain_hash, seq), toInt64(count()) "
      "FROM events WHERE seat_id = " +
      q +
      " UNION ALL SELECT 'm', toString(max(last_seq)), argMax(last_hash, last_seq), "
      "toInt64(count()) FROM seat_marks WHERE seat_id = " +
      q +
      " UNION ALL SELECT 'k', pubkey, toString(enrolled), set_ms FROM seat_keys WHERE seat_id = " +
      q;
  SeatRecord s;
  s.seat_id = seat;
  bool found = false;
  std::vector<std::tuple<std::int64_t, std::string, bool>> keys;
  ch.select(sql, [&](const Row& r) {
    const std::string& src = r.at(0);
    if (src == "k") {
      keys.emplace_back(i64(r.at(3)), r.at(1), r.at(2) == "1");
      found = true;
    } else if (i64(r.at(3)) > 0 && u64(r.at(1)) >= s.last_seq) {
      if (u64(r.at(1)) > s.last_seq || src == "m") s.last_hash = r.at(2);
      s.last_seq = u64(r.at(1));
      found = true;
    }
  });
  if (!found) return std::nullopt;
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::pair<bool, std::string> k;
  for (const auto& [ms, key, enrolled] : keys) pick_key(k, key, enrolled);
  s.pubkey_b64 = k.second;
  return s;
}

std::map<std::string, SeatRecord> load_marks_and_keys(const ClickHouseHttp& ch,
                                                      const std::vector<std::string>& seats) {
  std::map<std::string, SeatRecord> out;
  if (seats.empty()) return out;
  std::string in;
  for (const auto& s : seats) in += (in.empty() ? "" : ",") + ch_quote(s);
  // Rows tagged by source: m = seat_marks, k = seat_keys.
  std::string sql =
      "SELECT 'm' AS src, seat_id, toString(max(last_seq)), argMax(last_hash, last_seq), "
      "toInt64(0) FROM seat_marks WHERE seat_id IN (" +
      in +
      ") GROUP BY seat_id UNION ALL SELECT 'k', seat_id, pubkey, toString(enrolled), set_ms "
      "FROM seat_keys WHERE seat_id IN (" +
      in + ")";
  std::map<std::string, std::vector<std::tuple<std::int64_t, std::string, bool>>> keys;
  ch.select(sql, [&](const Row& r) {
    SeatRecord& s = out[r.at(1)];
    s.seat_id = r.at(1);
    if (r.at(0) == "k") {
      keys[r.at(1)].emplace_back(i64(r.at(4)), r.at(2), r.at(3) == "1");
    } else {
      s.last_seq = u64(r.at(2));
      s.last_hash = r.at(3);
    }
  });
  for (auto& [seat, list] : keys) {
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    std::pair<bool, std::string> k;
    for (const auto& [ms, key, enrolled] : list) pick_key(k, key, enrolled);
    out[seat].pubkey_b64 = k.second;
  }
  return out;
}

}  // namespace seatlock::collector::clickhouse_rows
