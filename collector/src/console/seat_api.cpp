// GET /api/seat and /api/person (query_api.hpp): one seat's state as its own events tell it, and
// one person's footprint across seats.
#include <algorithm>
#include <set>

#include "console/query_api.hpp"
#include "console/query_util.hpp"

namespace seatlock::collector::console {
namespace {

// The newest events of one seat and kind (an index range read backwards, no scan).
std::vector<StoredEvent> latest(EventStore& store, const std::string& seat, const std::string& kind,
                                std::size_t n) {
  EventFilter f;
  f.seat = seat;
  f.kind = kind;
  f.limit = n;
  std::vector<StoredEvent> out;
  store.query_keyset(f, /*descending=*/true, std::nullopt, [&](const StoredEvent& e) {
    out.push_back(e);
    return out.size() < n;
  });
  return out;
}

nlohmann::json details_of(const StoredEvent& e, nlohmann::json* whole = nullptr) {
  auto j = nlohmann::json::parse(e.line, nullptr, /*allow_exceptions=*/false);
  if (whole) *whole = j;
  if (!j.is_object() || !j.contains("details") || !j["details"].is_object())
    return nlohmann::json::object();
  return j["details"];
}

std::string str_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

nlohmann::json policy_version(EventStore& store, const std::string& seat) {
  auto applied = latest(store, seat, "policy.applied", 1);
  if (applied.empty()) return nullptr;
  nlohmann::json d = details_of(applied[0]);
  if (d.contains("fleet") && d["fleet"].is_object() && d["fleet"].contains("version"))
    return d["fleet"]["version"];
  std::string sha = str_of(d, "sha256");  // a policy that did not come from the fleet
  return sha.empty() ? nlohmann::json(nullptr) : nlohmann::json(sha);
}

std::string internet(EventStore& store, const std::string& seat) {
  auto closed = latest(store, seat, "net.closed", 1);
  auto opened = latest(store, seat, "net.opened", 1);
  if (closed.empty() && opened.empty()) return "unknown";
  if (opened.empty()) return "closed";
  if (closed.empty()) return "open";
  return closed[0].seq > opened[0].seq ? "closed" : "open";
}

// The devices the seat's USB events name, newest decision per device first.
nlohmann::json usb_devices(EventStore& store, const std::string& seat) {
  constexpr std::size_t kPerKind = 50, kMax = 20;
  std::vector<StoredEvent> all;
  for (const char* kind : {"usb.blocked", "usb.storage_detected", "usb.exception_used"})
    for (StoredEvent& e : latest(store, seat, kind, kPerKind)) all.push_back(std::move(e));
  std::sort(all.begin(), all.end(),
            [](const StoredEvent& a, const StoredEvent& b) { return a.seq > b.seq; });
  nlohmann::json out = nlohmann::json::array();
  std::set<std::string> seen;
  for (const StoredEvent& e : all) {
    nlohmann::json whole;
    nlohmann::json d = details_of(e, &whole);
    std::string vendor = str_of(d, "manufacturer"), product = str_of(d, "product");
    if (vendor.empty()) vendor = str_of(d, "vid");
    if (product.empty()) product = str_of(d, "pid");
    std::string serial = str_of(d, "serial");
    if (!seen.insert(str_of(d, "vid") + ":" + str_of(d, "pid") + ":" + serial + ":" + product)
             .second)
      continue;
    out.push_back({{"vendor", vendor},
                   {"product", product},
                   {"serial", serial},
                   {"decision", whole.is_object() ? str_of(whole, "outcome") : ""},
                   {"kind", e.kind},
                   {"time_ms", e.time_ms}});
    if (out.size() == kMax) break;
  }
  return out;
}

nlohmann::json firmware(EventStore& store, const std::string& seat) {
  auto verdict = latest(store, seat, "firmware.attestation_verdict", 1);
  auto self = latest(store, seat, "firmware.attestation", 1);
  const StoredEvent* e = nullptr;
  if (!verdict.empty())
    e = &verdict[0];  // the collector's verdict outranks self-reporting
  else if (!self.empty())
    e = &self[0];
  if (!e) return nullptr;
  nlohmann::json whole;
  nlohmann::json d = details_of(*e, &whole);
  std::string result = str_of(d, "result");
  if (result.empty() && whole.is_object()) result = str_of(whole, "outcome");
  return {{"result", result}, {"kind", e->kind}, {"time_ms", e->time_ms}};
}

}  // namespace

HttpResponse api_seat(EventStore& store, const ApiRequest& req) {
  if (auto bad = reject_unknown(req.query, {"id"})) return *bad;
  std::optional<HttpResponse> err;
  auto id = required_param(req.query, "id", err);
  if (err) return *err;
  std::optional<SeatRecord> rec;
  for (SeatRecord& s : store.seats())
    if (s.seat_id == *id) rec = std::move(s);
  if (!rec) return error_response(404, "no seat " + nlohmann::json(*id).dump());
  std::vector<Finding> findings = store.findings(*id);
  nlohmann::json fl = nlohmann::json::array();
  for (const Finding& f : findings)
    fl.push_back({{"kind", f.kind},
                  {"seq_from", f.seq_from},
                  {"seq_to", f.seq_to},
                  {"detail", f.detail},
                  {"found_ms", f.found_ms},
                  {"resolved", f.resolved}});
  nlohmann::json state = {{"policy_version", policy_version(store, *id)},
                          {"internet", internet(store, *id)},
                          {"usb_devices", usb_devices(store, *id)},
                          {"firmware", firmware(store, *id)}};
  return json_response({{"seat", rec->seat_id},
                        {"last_seen_ms", rec->last_received_ms},
                        {"last_event_kind", rec->last_event_kind},
                        {"state", std::move(state)},
                        {"chain",
                         {{"status", chain_status(findings)},
                          {"head_seq", rec->last_seq},
                          {"findings", std::move(fl)}}}});
}

HttpResponse api_person(EventStore& store, const ApiRequest& req) {
  if (auto bad = reject_unknown(req.query, {"name"})) return *bad;
  std::optional<HttpResponse> err;
  auto name = required_param(req.query, "name", err);
  if (err) return *err;
  struct SeatCount {
    std::uint64_t count = 0;
    std::int64_t last_ms = 0;
  };
  std::map<std::string, SeatCount> seats;
  std::map<std::string, std::uint64_t> kinds;
  EventFilter f;
  f.user = *name;
  store.query_keyset(f, /*descending=*/false, std::nullopt, [&](const StoredEvent& e) {
    SeatCount& s = seats[e.seat_id];
    ++s.count;
    s.last_ms = std::max(s.last_ms, e.time_ms);
    ++kinds[e.kind];
    return true;
  });
  if (seats.empty())
    return error_response(404, "no events of user " + nlohmann::json(*name).dump());
  nlohmann::json sj = nlohmann::json::array();
  for (const auto& [seat, c] : seats)
    sj.push_back({{"seat", seat}, {"count", c.count}, {"last_ms", c.last_ms}});
  // Most recently used seat first.
  std::sort(sj.begin(), sj.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["last_ms"].get<std::int64_t>() > b["last_ms"].get<std::int64_t>();
  });
  return json_response({{"name", *name}, {"seats", std::move(sj)}, {"kinds", kinds}});
}

}  // namespace seatlock::collector::console
