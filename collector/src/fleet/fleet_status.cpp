// fleet status: gathering what was published (the bundle directory) and what seats reported
// (the event store) into one row per seat. Rendering and the command: fleet_status_print.cpp.
#include "fleet_status.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "core/event/event.hpp"

namespace seatlock::collector::fleet_cli {

namespace {

using nlohmann::json;

// Files are shared by many seats (all/, a group's files): each distinct text is parsed once.
using ParsedFiles = std::unordered_map<std::string, json>;

const json& parsed(ParsedFiles& cache, const std::string& text) {
  auto it = cache.find(text);
  if (it == cache.end())
    it = cache.emplace(text, json::parse(text, nullptr, false, /*ignore_comments=*/true)).first;
  return it->second;
}

void add_grants(const json& doc, const char* section, UnixMillis now,
                std::vector<FleetGrant>& out) {
  if (!doc.contains(section) || !doc[section].is_object()) return;
  const json& s = doc[section];
  if (!s.contains("exceptions") || !s["exceptions"].is_array()) return;
  for (const json& e : s["exceptions"]) {
    if (!e.is_object()) continue;
    FleetGrant g;
    g.section = section;
    g.ticket = e.value("ticket", "");
    if (e.contains("until") && e["until"].is_string())
      g.until = parse_rfc3339(e["until"].get<std::string>()).value_or(0);
    if (g.until && g.until <= now) continue;  // expired: the seat dropped it by its own timer
    g.entry = e;
    out.push_back(std::move(g));
  }
}

PublishedState summarize(const std::string& document, UnixMillis now, ParsedFiles& cache) {
  json doc = json::parse(document, nullptr, false);
  if (!doc.is_object() || !doc.contains("bundle") || !doc["bundle"].is_object())
    throw std::runtime_error("a published line that is not a bundle");
  const json& b = doc["bundle"];
  PublishedState p;
  p.version = b.value("version", std::uint64_t(0));
  p.issued = parse_rfc3339(b.value("issued", "")).value_or(0);
  p.expires = parse_rfc3339(b.value("expires", "")).value_or(0);
  if (!b.contains("files") || !b["files"].is_array()) return p;
  for (const json& f : b["files"]) {  // in merge order: a later closure wins, grants accumulate
    if (!f.is_object() || !f.contains("text") || !f["text"].is_string()) continue;
    const json& file = parsed(cache, f["text"].get_ref<const std::string&>());
    if (!file.is_object()) continue;
    if (file.contains("network") && file["network"].is_object() &&
        file["network"].contains("closed"))
      p.closure = file["network"]["closed"];
    add_grants(file, "usb", now, p.grants);
    add_grants(file, "network", now, p.grants);
  }
  if (p.closure.is_object()) {
    UnixMillis until = 0;
    if (p.closure.contains("until") && p.closure["until"].is_string())
      until = parse_rfc3339(p.closure["until"].get<std::string>()).value_or(0);
    p.closed = until == 0 || until > now;  // past its `until` the seat reopened by itself
  }
  return p;
}

// The details of a stored event line ("{}" when it has none).
json details_of(const StoredEvent& e) {
  json j = json::parse(e.line, nullptr, false);
  if (!j.is_object() || !j.contains("details") || !j["details"].is_object()) return json::object();
  return std::move(j["details"]);
}

std::uint64_t fleet_version_in(const json& details) {
  if (!details.contains("fleet") || !details["fleet"].is_object()) return 0;
  const json& v = details["fleet"].contains("version") ? details["fleet"]["version"] : json();
  return v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
}

struct Ack {
  std::uint64_t version = 0;
  UnixMillis since = 0;
  json local_overrides;
};

// As `seatlock-collector seats` (cmd_seats.cpp): silent when no event or heartbeat came for
// more than `silent_after` heartbeat intervals (the interval observed between the last two
// heartbeats, else the default), or when nothing was ever accepted while batches are refused.
bool is_silent(const SeatRecord* s, const SeatRefusal* ref, const FleetStatusOptions& opt) {
  const std::int64_t received = s ? s->last_received_ms : 0;
  const bool refusing = ref && ref->last_ms >= received;
  if (!s) return refusing;
  const std::int64_t interval =
      (s->last_heartbeat_ms && s->prev_heartbeat_ms && s->last_heartbeat_ms > s->prev_heartbeat_ms)
          ? s->last_heartbeat_ms - s->prev_heartbeat_ms
          : opt.default_heartbeat_ms;
  const std::int64_t last_sign = std::max(s->last_heartbeat_ms, s->last_event_ms);
  if (last_sign == 0) return refusing;
  return opt.now - last_sign > static_cast<std::int64_t>(opt.silent_after) * interval;
}

void set_flags(SeatFleetStatus& r) {
  std::set<std::string> on;
  if (!r.published) on.insert("no-bundle");
  if (r.published && !r.seen) on.insert("never-seen");
  if (r.silent) on.insert("silent");
  if (!r.refused.is_null()) on.insert("refused");
  if (r.published && r.acked < r.published->version) on.insert("behind");
  if (r.local_overrides.is_array() && !r.local_overrides.empty()) on.insert("local-edits");
  for (const auto& f : kFlagOrder)
    if (on.count(f)) r.flags.push_back(f);
}

}  // namespace

PublishedState summarize_bundle(const std::string& document, UnixMillis now) {
  ParsedFiles cache;
  return summarize(document, now, cache);
}

FleetStatus gather_fleet_status(EventStore& store,
                                const std::map<std::string, PublishedBundle>& bundles,
                                std::uint64_t published_version, const FleetStatusOptions& opt) {
  auto wanted = [&](const std::string& seat) { return !opt.only || opt.only->count(seat) > 0; };
  std::map<std::string, SeatFleetStatus> rows;
  auto row = [&](const std::string& seat) -> SeatFleetStatus& {
    SeatFleetStatus& r = rows[seat];
    r.seat = seat;
    return r;
  };

  ParsedFiles cache;
  for (const auto& [seat, b] : bundles)
    if (wanted(seat)) row(seat).published = summarize(b.document, opt.now, cache);

  std::map<std::string, SeatRecord> records;
  for (SeatRecord& s : store.seats())
    if (wanted(s.seat_id)) records.emplace(s.seat_id, std::move(s));
  std::map<std::string, SeatRefusal> refusals;
  for (SeatRefusal& r : store.refusals())
    if (wanted(r.seat_id)) refusals.emplace(r.seat_id, std::move(r));
  for (const auto& [seat, s] : records) row(seat);
  for (const auto& [seat, r] : refusals) row(seat);

  // One query per kind, in time order: the latest event of each seat wins.
  std::map<std::string, Ack> acks;
  EventFilter f;
  f.kind = "policy.applied";
  store.query(f, [&](const StoredEvent& e) {
    if (!rows.count(e.seat_id)) return true;
    json d = details_of(e);
    Ack& a = acks[e.seat_id];
    const std::uint64_t v = fleet_version_in(d);
    if (v != a.version || a.since == 0) a.since = e.time_ms;
    a.version = v;
    a.local_overrides = v ? d["fleet"].value("local_overrides", json()) : json();
    return true;
  });
  std::map<std::string, json> rejected;
  f.kind = "policy.rejected";
  store.query(f, [&](const StoredEvent& e) {
    if (!rows.count(e.seat_id)) return true;
    json d = details_of(e);
    if (!d.contains("fleet") || !d["fleet"].is_object()) return true;  // a local edit refused
    rejected[e.seat_id] = {{"version", fleet_version_in(d)},
                           {"refusal", d["fleet"].value("refusal", "")},
                           {"at", format_rfc3339_ms(e.time_ms)},
                           {"time_ms", e.time_ms}};
    return true;
  });
  for (const char* kind : {"net.closed", "net.opened"}) {
    f.kind = kind;
    store.query(f, [&](const StoredEvent& e) {
      auto it = rows.find(e.seat_id);
      if (it != rows.end() && e.time_ms >= it->second.seat_net_at) {
        it->second.seat_net = e.kind == "net.closed" ? "closed" : "opened";
        it->second.seat_net_at = e.time_ms;
      }
      return true;
    });
  }
  EventFilter day;
  day.since_ms = opt.now - 24 * 3600 * 1000LL;
  Event probe;  // is_violation() reads kind and severity only
  store.query(day, [&](const StoredEvent& e) {
    auto it = rows.find(e.seat_id);
    if (it == rows.end()) return true;
    probe.kind = e.kind;
    probe.severity = e.severity;
    if (is_violation(probe)) ++it->second.violations_24h;
    return true;
  });

  FleetStatus out;
  out.published_version = published_version;
  for (auto& [seat, r] : rows) {
    const SeatRecord* s = records.count(seat) ? &records[seat] : nullptr;
    const SeatRefusal* ref = refusals.count(seat) ? &refusals[seat] : nullptr;
    r.seen = s || ref;
    r.last_seen = std::max(s ? s->last_received_ms : 0, ref ? ref->last_ms : 0);
    r.silent = is_silent(s, ref, opt);
    if (auto a = acks.find(seat); a != acks.end()) {
      r.acked = a->second.version;
      r.acked_at = r.acked ? a->second.since : 0;
      r.local_overrides = a->second.local_overrides;
    }
    // A refusal still pending: it names a version above the one the seat runs (a refused replay
    // or rollback does not) and came after that version was applied (a forged document claiming
    // version 50, refused before the real version 3 applied, is history).
    if (auto j = rejected.find(seat); j != rejected.end() &&
                                      j->second["version"].get<std::uint64_t>() > r.acked &&
                                      j->second["time_ms"].get<std::int64_t>() >= r.acked_at) {
      r.refused = j->second;
      r.refused.erase("time_ms");
    }
    set_flags(r);
    out.seats.push_back(std::move(r));
  }
  return out;
}

}  // namespace seatlock::collector::fleet_cli
