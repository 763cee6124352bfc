// GET /api/overview?days=14&tz_offset_min=480 (query_api.hpp): violations per day in the viewer's
// zone, the seats and users with the most, silent seats, seats behind on policy, chain status.
// Counts come from the store's violation rollups, never from a scan of the events.
#include <chrono>
#include <cstdio>

#include "audit/collector_log.hpp"
#include "console/query_api.hpp"
#include "console/query_util.hpp"

namespace seatlock::collector::console {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kTop = 10;
constexpr std::int64_t kDefaultHeartbeatMs = 5 * 60'000;  // as `seatlock-collector seats`
constexpr std::int64_t kSilentAfter = 3;                  // heartbeat intervals

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::string civil_date(std::int64_t day_number) {  // days since 1970-01-01 -> "YYYY-MM-DD"
  // Howard Hinnant's civil_from_days.
  std::int64_t z = day_number + 719468;
  std::int64_t era = floor_div(z, 146097);
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y) + (m <= 2),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

// A seat is silent as `seatlock-collector seats` decides: nothing for more than three of its
// heartbeat intervals (never for the collector's own chain, which has no heartbeat).
// The seat's last sign of life: its newest heartbeat or event (event time, as `seats` shows it;
// a batch of old events arriving now does not make a seat look alive).
std::int64_t last_sign(const SeatRecord& s) {
  return std::max(s.last_heartbeat_ms, s.last_event_ms);
}

bool is_silent(const SeatRecord& s, std::int64_t now_ms) {
  if (audit::is_collector_chain(s.seat_id)) return false;
  std::int64_t interval =
      (s.last_heartbeat_ms && s.prev_heartbeat_ms && s.last_heartbeat_ms > s.prev_heartbeat_ms)
          ? s.last_heartbeat_ms - s.prev_heartbeat_ms
          : kDefaultHeartbeatMs;
  return last_sign(s) != 0 && now_ms - last_sign(s) > kSilentAfter * interval;
}

}  // namespace

HttpResponse api_overview(EventStore& store, const ApiRequest& req,
                          const std::vector<BehindSeat>& behind, std::int64_t now_ms) {
  if (auto bad = reject_unknown(req.query, {"days", "tz_offset_min"})) return *bad;
  std::optional<HttpResponse> err;
  auto days = int_param(req.query, "days", 1, 366, 14, err);
  if (err) return *err;
  auto tz = int_param(req.query, "tz_offset_min", -14 * 60, 14 * 60, 0, err);
  if (err) return *err;
  if (now_ms == 0)
    now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  const std::int64_t offset_ms = *tz * 60'000;
  // The window: `days` whole local days ending with today (local midnight to local midnight).
  const std::int64_t today = floor_div(now_ms + offset_ms, kDayMs);
  const std::int64_t first_day = today - (*days - 1);
  const std::int64_t since = first_day * kDayMs - offset_ms;
  const std::int64_t until = (today + 1) * kDayMs - offset_ms;

  std::vector<nlohmann::json> per_day(static_cast<std::size_t>(*days), nlohmann::json::object());
  for (const auto& b : store.violation_buckets(since, until)) {
    std::int64_t day = floor_div(b.bucket_ms + offset_ms, kDayMs) - first_day;
    if (day < 0 || day >= *days) continue;
    nlohmann::json& kinds = per_day[static_cast<std::size_t>(day)];
    kinds[b.kind] = kinds.value(b.kind, std::uint64_t{0}) + b.count;
  }
  nlohmann::json days_json = nlohmann::json::array();
  for (std::int64_t d = 0; d < *days; ++d)
    days_json.push_back(
        {{"date", civil_date(first_day + d)}, {"kinds", per_day[static_cast<std::size_t>(d)]}});

  auto top = [&](bool by_user) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : store.top_violators(by_user, since, until, kTop))
      out.push_back({{by_user ? "user" : "seat", t.name}, {"count", t.count}});
    return out;
  };

  std::map<std::string, std::vector<Finding>> findings;
  for (Finding& f : store.findings(std::nullopt)) findings[f.seat_id].push_back(std::move(f));
  nlohmann::json silent = nlohmann::json::array();
  nlohmann::json gaps = nlohmann::json::array(), broken = nlohmann::json::array();
  std::uint64_t ok = 0;
  for (const SeatRecord& s : store.seats()) {
    if (is_silent(s, now_ms))
      silent.push_back({{"seat", s.seat_id}, {"last_seen_ms", last_sign(s)}});
    std::string chain = chain_status(findings[s.seat_id]);
    if (chain == "ok")
      ++ok;
    else
      (chain == "gaps" ? gaps : broken).push_back(s.seat_id);
  }
  nlohmann::json behind_json = nlohmann::json::array();
  for (const BehindSeat& b : behind)
    behind_json.push_back({{"seat", b.seat}, {"published", b.published}, {"applied", b.applied}});

  return json_response(
      {{"days", std::move(days_json)},
       {"from_ms", since},
       {"to_ms", until},
       {"top_seats", top(false)},
       {"top_users", top(true)},
       {"silent_seats", std::move(silent)},
       {"behind_on_policy", std::move(behind_json)},
       {"chains", {{"ok", ok}, {"gaps", std::move(gaps)}, {"broken", std::move(broken)}}}});
}

}  // namespace seatlock::collector::console
