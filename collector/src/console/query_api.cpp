// GET /api/events, /api/event, /api/seats (query_api.hpp).
#include "console/query_api.hpp"

#include <charconv>
#include <chrono>

#include "console/filter.hpp"
#include "console/query_util.hpp"

namespace seatlock::collector::console {
namespace {

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc() || p != s.data() + i + 2) return std::nullopt;
    out += static_cast<char>(v);
  }
  return out;
}

}  // namespace

// "<time_ms>.<seq>.<seat as hex>": URL-safe without escaping, whatever the seat id holds.
std::string encode_cursor(const EventStore::EventKey& k) {
  return std::to_string(k.time_ms) + "." + std::to_string(k.seq) + "." + hex(k.seat_id);
}

std::optional<EventStore::EventKey> decode_cursor(const std::string& s) {
  auto a = s.find('.');
  auto b = a == std::string::npos ? a : s.find('.', a + 1);
  if (b == std::string::npos) return std::nullopt;
  EventStore::EventKey k;
  auto [p1, e1] = std::from_chars(s.data(), s.data() + a, k.time_ms);
  auto [p2, e2] = std::from_chars(s.data() + a + 1, s.data() + b, k.seq);
  if (e1 != std::errc() || p1 != s.data() + a || e2 != std::errc() || p2 != s.data() + b)
    return std::nullopt;
  auto seat = unhex(std::string_view(s).substr(b + 1));
  if (!seat) return std::nullopt;
  k.seat_id = std::move(*seat);
  return k;
}

std::string chain_status(const std::vector<Finding>& seat_findings) {
  bool gaps = false;
  for (const Finding& f : seat_findings) {
    if (f.kind != "gap") return "broken";
    gaps = gaps || !f.resolved;
  }
  return gaps ? "gaps" : "ok";
}

HttpResponse api_events(EventStore& store, const ApiRequest& req) {
  ConsoleFilter f;
  if (auto err = parse_filter(req.query, f)) return error_response(400, *err);
  if (req.query.count("format")) return error_response(400, "unknown parameter \"format\"");
  std::optional<HttpResponse> err;
  auto limit = int_param(req.query, "limit", 1, 500, 100, err);
  if (err) return *err;
  std::optional<EventStore::EventKey> after;
  if (auto it = req.query.find("after"); it != req.query.end() && !it->second.empty()) {
    after = decode_cursor(it->second);
    if (!after) return error_response(400, "after: not a cursor this server gave");
  }
  const bool post_filter = f.outcome || f.text;
  EventFilter sf = store_filter(f);
  // Without a post-filter every row the store gives matches: ask for one more than the page to
  // know whether an older page exists.
  if (!post_filter) sf.limit = static_cast<std::uint64_t>(*limit) + 1;
  nlohmann::json rows = nlohmann::json::array();
  std::optional<EventStore::EventKey> last_examined, last_row;
  std::size_t examined = 0;
  bool more = false;
  const auto started = std::chrono::steady_clock::now();
  const auto scan_budget = std::chrono::milliseconds(kEventsScanBudgetMs);
  store.query_keyset(sf, /*descending=*/true, after, [&](const StoredEvent& e) {
    if (rows.size() == static_cast<std::size_t>(*limit)) {
      if (!post_filter || matches_line(f, e.line)) {
        more = true;
        return false;
      }
    } else if (!post_filter || matches_line(f, e.line)) {
      rows.push_back(event_row(e));
      last_row = EventStore::EventKey{e.time_ms, e.seat_id, e.seq};
    }
    last_examined = EventStore::EventKey{e.time_ms, e.seat_id, e.seq};
    // The clock is read every 256 rows: a row costs about a microsecond.
    if (post_filter &&
        (++examined >= kEventsScanBudget ||
         (examined % 256 == 0 && std::chrono::steady_clock::now() - started > scan_budget))) {
      more = true;  // unknown: the scan stopped here
      return false;
    }
    return true;
  });
  nlohmann::json next = nullptr;
  if (more) {
    // A full page continues after its last row; a budget stop after the last row examined.
    const auto& at = rows.size() == static_cast<std::size_t>(*limit) ? last_row : last_examined;
    if (at) next = encode_cursor(*at);
  }
  return json_response({{"events", std::move(rows)}, {"next", next}});
}

HttpResponse api_event(EventStore& store, const ApiRequest& req) {
  if (auto bad = reject_unknown(req.query, {"seat", "seq"})) return *bad;
  std::optional<HttpResponse> err;
  auto seat = required_param(req.query, "seat", err);
  if (err) return *err;
  if (!req.query.count("seq")) return error_response(400, "seq: required");
  auto seq = int_param(req.query, "seq", 1, INT64_MAX, 0, err);
  if (err) return *err;
  auto e = store.event_at(*seat, static_cast<std::uint64_t>(*seq));
  if (!e) return error_response(404, "no event " + *seat + " #" + std::to_string(*seq));
  auto line = nlohmann::json::parse(e->line, nullptr, /*allow_exceptions=*/false);
  if (line.is_discarded()) line = e->line;  // not JSON: show the stored text as it is
  return json_response(
      {{"event", std::move(line)}, {"chain_hash", e->chain_hash}, {"received_ms", e->received_ms}});
}

HttpResponse api_seats(EventStore& store, const ApiRequest& req) {
  if (auto bad = reject_unknown(req.query, {})) return *bad;
  std::map<std::string, std::vector<Finding>> findings;
  for (Finding& f : store.findings(std::nullopt)) findings[f.seat_id].push_back(std::move(f));
  nlohmann::json seats = nlohmann::json::array();
  for (const SeatRecord& s : store.seats()) {
    seats.push_back({{"seat", s.seat_id},
                     {"last_seen_ms", s.last_received_ms},
                     {"last_event_kind", s.last_event_kind},
                     {"last_seq", s.last_seq},
                     {"chain", chain_status(findings[s.seat_id])}});
  }
  return json_response({{"seats", std::move(seats)}});
}

}  // namespace seatlock::collector::console
