#include "event_fast_path.hpp"

#include <simdjson.h>

#include <string>

#include "core/event/canonical_check.hpp"
#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "ingest.hpp"

namespace seatlock::collector {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A string member: absent -> `absent_ok`; present and a string -> copied to `out`.
bool str(object o, std::string_view key, std::string* out, bool absent_ok) {
  element v;
  if (o[key].get(v) != simdjson::SUCCESS) return absent_ok;
  std::string_view sv;
  if (v.get(sv) != simdjson::SUCCESS) return false;
  if (out) out->assign(sv.data(), sv.size());
  return true;
}

bool optional_object(object o, std::string_view key, object& out, bool& present) {
  element v;
  present = o[key].get(v) == simdjson::SUCCESS;
  return !present || v.get(out) == simdjson::SUCCESS;
}

// The rules of event_from_json (agent/core/event/event.cpp), as a yes/no.
bool read_event(object root, StoredEvent& s) {
  static constexpr std::string_view kAllowed[] = {
      "schema",   "id",      "seq",  "time",   "seat",    "user", "kind",
      "severity", "outcome", "mode", "policy", "details", "prev"};
  for (auto field : root) {
    bool known = false;
    for (std::string_view k : kAllowed) known = known || field.key == k;
    if (!known) return false;
  }
  std::string schema, time_text;
  if (!str(root, "schema", &schema, false) || schema != kEventSchema) return false;
  if (!str(root, "id", &s.id, false) || !is_uuid(s.id)) return false;
  std::uint64_t seq = 0;
  if (root["seq"].get(seq) != simdjson::SUCCESS || seq == 0) return false;
  s.seq = seq;
  if (!str(root, "time", &time_text, false)) return false;
  auto t = parse_rfc3339(time_text);
  if (!t) return false;
  s.time_ms = *t;
  object seat;
  if (root["seat"].get(seat) != simdjson::SUCCESS) return false;
  if (!str(seat, "id", &s.seat_id, false) || s.seat_id.empty()) return false;
  if (!str(seat, "hostname", nullptr, true)) return false;
  element user;
  if (root["user"].get(user) == simdjson::SUCCESS && !user.is_null()) {
    object u;
    std::int64_t uid = 0;
    if (user.get(u) != simdjson::SUCCESS || !str(u, "name", &s.user_name, false) ||
        u["uid"].get(uid) != simdjson::SUCCESS)
      return false;
  }
  if (!str(root, "kind", &s.kind, false) || s.kind.find('.') == std::string::npos) return false;
  if (!str(root, "severity", &s.severity, false) || !is_known_severity(s.severity)) return false;
  if (!str(root, "outcome", nullptr, false) || !str(root, "mode", nullptr, true)) return false;
  object policy, details;
  bool has_policy = false, has_details = false;
  if (!optional_object(root, "policy", policy, has_policy)) return false;
  if (has_policy && (!str(policy, "sha256", nullptr, true) || !str(policy, "rule", nullptr, true)))
    return false;
  if (!optional_object(root, "details", details, has_details) || !has_details) return false;
  return str(root, "prev", &s.prev, false) && is_hex64(s.prev);
}

}  // namespace

std::optional<StoredEvent> fast_stored_event(std::string_view line, std::int64_t now_ms) {
  if (line.size() > kEventJsonLimits.max_bytes) return std::nullopt;
  // The scan runs first: it is cheap, bounds the depth before simdjson builds anything, and
  // makes sure every string is plain ASCII (so the values below are the line's own bytes).
  if (scan_canonical(line, kEventJsonLimits.max_depth) != CanonicalScan::canonical)
    return std::nullopt;
  thread_local simdjson::dom::parser parser;
  element root;
  if (parser.parse(line.data(), line.size(), true).get(root) != simdjson::SUCCESS)
    return std::nullopt;
  object obj;
  if (root.get(obj) != simdjson::SUCCESS) return std::nullopt;
  StoredEvent s;
  if (!read_event(obj, s)) return std::nullopt;
  // Canonical bytes: the chain hash is the hash of the line itself.
  s.chain_hash = sha256_hex(line);
  s.line = std::string(line);
  s.received_ms = now_ms;
  return s;
}

}  // namespace seatlock::collector
