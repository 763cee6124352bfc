#include "core/event/event.hpp"

#include <array>

#include "core/event/kinds.hpp"
#include "core/util/digest.hpp"

namespace seatlock {

using nlohmann::json;

json to_json(const Event& e) {
  json j = {{"schema", kEventSchema},
            {"id", e.id},
            {"seq", e.seq},
            {"time", format_rfc3339_ms(e.time)},
            {"seat", {{"id", e.seat_id}, {"hostname", e.hostname}}},
            {"kind", e.kind},
            {"severity", e.severity},
            {"outcome", e.outcome},
            {"details", e.details.is_null() ? json::object() : e.details},
            {"prev", e.prev}};
  if (e.user) j["user"] = {{"name", e.user->name}, {"uid", e.user->uid}};
  if (!e.mode.empty()) j["mode"] = e.mode;
  if (!e.policy_sha256.empty() || !e.rule.empty()) {
    j["policy"] = json::object();
    if (!e.policy_sha256.empty()) j["policy"]["sha256"] = e.policy_sha256;
    if (!e.rule.empty()) j["policy"]["rule"] = e.rule;
  }
  return j;
}

namespace {

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

struct Reader {
  const json& root;
  std::vector<std::string>& errors;

  const json* field(const json& obj, const std::string& ptr, const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) errors.push_back(ptr + "/" + key + ": required field is missing");
      return nullptr;
    }
    return &*it;
  }
  bool str(const json& obj, const std::string& ptr, const char* key, std::string& out,
           bool required = true) {
    const json* v = field(obj, ptr, key, required);
    if (!v) return false;
    if (!v->is_string()) {
      errors.push_back(ptr + "/" + key + ": expected a string, got " + v->type_name());
      return false;
    }
    out = v->get<std::string>();
    return true;
  }
};

}  // namespace

std::vector<std::string> event_from_json(const json& j, Event& out) {
  std::vector<std::string> errors;
  if (!j.is_object()) return {": expected an event object, got " + std::string(j.type_name())};
  static const std::array<const char*, 13> kAllowed = {
      "schema",   "id",      "seq",  "time",   "seat",    "user", "kind",
      "severity", "outcome", "mode", "policy", "details", "prev"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : kAllowed) known = known || it.key() == k;
    if (!known) errors.push_back("/" + it.key() + ": unknown field");
  }
  Reader r{j, errors};
  Event e;
  std::string schema;
  if (r.str(j, "", "schema", schema) && schema != kEventSchema)
    errors.push_back("/schema: expected \"" + std::string(kEventSchema) + "\", got \"" + schema +
                     "\"");
  if (r.str(j, "", "id", e.id) && !is_uuid(e.id))
    errors.push_back("/id: expected a UUID, got \"" + e.id + "\"");
  if (const json* v = r.field(j, "", "seq", true)) {
    if (!v->is_number_unsigned() || v->get<std::uint64_t>() == 0)
      errors.push_back("/seq: expected a positive integer");
    else
      e.seq = v->get<std::uint64_t>();
  }
  std::string time_text;
  if (r.str(j, "", "time", time_text)) {
    auto t = parse_rfc3339(time_text);
    if (!t)
      errors.push_back("/time: expected an RFC 3339 time with offset, got \"" + time_text + "\"");
    else
      e.time = *t;
  }
  if (const json* seat = r.field(j, "", "seat", true)) {
    if (!seat->is_object()) {
      errors.push_back("/seat: expected an object");
    } else {
      if (r.str(*seat, "/seat", "id", e.seat_id) && e.seat_id.empty())
        errors.push_back("/seat/id: must not be empty");
      r.str(*seat, "/seat", "hostname", e.hostname, false);
    }
  }
  if (const json* user = r.field(j, "", "user", false); user && !user->is_null()) {
    if (!user->is_object()) {
      errors.push_back("/user: expected an object or null");
    } else {
      UserRef u;
      r.str(*user, "/user", "name", u.name);
      if (const json* uid = r.field(*user, "/user", "uid", true)) {
        if (!uid->is_number_integer())
          errors.push_back("/user/uid: expected an integer");
        else
          u.uid = uid->get<std::int64_t>();
      }
      e.user = u;
    }
  }
  if (r.str(j, "", "kind", e.kind) && e.kind.find('.') == std::string::npos)
    errors.push_back("/kind: expected \"<area>.<what>\", got \"" + e.kind + "\"");
  if (r.str(j, "", "severity", e.severity) && !is_known_severity(e.severity))
    errors.push_back("/severity: expected one of info, low, medium, high, critical, got \"" +
                     e.severity + "\"");
  r.str(j, "", "outcome", e.outcome);
  r.str(j, "", "mode", e.mode, false);
  if (const json* pol = r.field(j, "", "policy", false)) {
    if (!pol->is_object()) {
      errors.push_back("/policy: expected an object");
    } else {
      r.str(*pol, "/policy", "sha256", e.policy_sha256, false);
      r.str(*pol, "/policy", "rule", e.rule, false);
    }
  }
  if (const json* d = r.field(j, "", "details", true)) {
    if (!d->is_object())
      errors.push_back("/details: expected an object");
    else
      e.details = *d;
  }
  if (r.str(j, "", "prev", e.prev) && !is_hex64(e.prev))
    errors.push_back("/prev: expected 64 lower-case hex digits");
  if (errors.empty()) out = std::move(e);
  return errors;
}

std::string canonical_bytes(const json& j) {
  // nlohmann's default object type is a std::map, so keys come out sorted by byte value.
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

namespace {

// A JSON string exactly as nlohmann's strict, non-ASCII-escaping dump writes it. Printable ASCII
// without quote or backslash (nearly every envelope field) is copied as is; anything else goes
// through nlohmann, which escapes and validates UTF-8 (throws on invalid bytes, as before).
void put_string(std::string& out, const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      out += json(s).dump(-1, ' ', false, json::error_handler_t::strict);
      return;
    }
  out += '"';
  out += s;
  out += '"';
}

void put_key(std::string& out, const char* key, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace

std::size_t canonical_size_hint(const Event& e) {
  // Keys, quotes and punctuation of the envelope, the time and the numbers: under 256 bytes.
  // details is not measured (that would serialise it twice): 256 bytes covers a typical one.
  std::size_t n = 512 + e.id.size() + e.kind.size() + e.mode.size() + e.outcome.size() +
                  e.rule.size() + e.policy_sha256.size() + e.prev.size() + e.hostname.size() +
                  e.seat_id.size() + e.severity.size();
  if (e.user) n += e.user->name.size();
  return n;
}

// The same bytes as canonical_bytes(to_json(e)) (a unit test holds them equal), written
// directly: building the json object first (and copying `details` into it) cost more than
// everything else of a durable spool append.
void append_canonical_bytes(std::string& out, const Event& e) {
  // Keys in byte order, as a std::map-backed json object would sort them.
  out += '{';
  put_key(out, "details", true);
  if (e.details.is_null()) {
    out += "{}";
  } else {
    // What e.details.dump(-1, ' ', false, strict) returns, written into `out` itself rather
    // than into a temporary string that is then copied.
    nlohmann::detail::serializer<json> s(nlohmann::detail::output_adapter<char>(out), ' ',
                                         json::error_handler_t::strict);
    s.dump(e.details, false, false, 0);
  }
  put_key(out, "id");
  put_string(out, e.id);
  put_key(out, "kind");
  put_string(out, e.kind);
  if (!e.mode.empty()) {
    put_key(out, "mode");
    put_string(out, e.mode);
  }
  put_key(out, "outcome");
  put_string(out, e.outcome);
  if (!e.policy_sha256.empty() || !e.rule.empty()) {
    put_key(out, "policy");
    out += '{';
    bool first = true;
    if (!e.rule.empty()) {
      put_key(out, "rule", first);
      put_string(out, e.rule);
      first = false;
    }
    if (!e.policy_sha256.empty()) {
      put_key(out, "sha256", first);
      put_string(out, e.policy_sha256);
    }
    out += '}';
  }
  put_key(out, "prev");
  put_string(out, e.prev);
  put_key(out, "schema");
  put_string(out, kEventSchema);
  put_key(out, "seat");
  out += '{';
  put_key(out, "hostname", true);
  put_string(out, e.hostname);
  put_key(out, "id");
  put_string(out, e.seat_id);
  out += '}';
  put_key(out, "seq");
  out += std::to_string(e.seq);
  put_key(out, "severity");
  put_string(out, e.severity);
  put_key(out, "time");
  put_string(out, format_rfc3339_ms(e.time));
  if (e.user) {
    put_key(out, "user");
    out += '{';
    put_key(out, "name", true);
    put_string(out, e.user->name);
    put_key(out, "uid");
    out += std::to_string(e.user->uid);
    out += '}';
  }
  out += '}';
}

std::string canonical_bytes(const Event& e) {
  std::string out;
  out.reserve(canonical_size_hint(e));
  append_canonical_bytes(out, e);
  return out;
}

std::string chain_hash(const Event& e) {
  return sha256_hex(canonical_bytes(e));
}

std::string make_uuid_v7(UnixMillis ms, const unsigned char r[10]) {
  unsigned char b[16];
  std::uint64_t t = static_cast<std::uint64_t>(ms) & 0xFFFFFFFFFFFFULL;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(t >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | (r[0] & 0x0F));
  b[7] = r[1];
  b[8] = static_cast<unsigned char>(0x80 | (r[2] & 0x3F));
  for (int i = 9; i < 16; ++i) b[i] = r[i - 6];
  // 8-4-4-4-12 lower-case hex digits (written by hand: snprintf showed in the spool's profile).
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool is_known_severity(const std::string& s) {
  return severity_from_string(s).has_value();
}

bool is_violation(const Event& e) {
  // Housekeeping kinds (the table in core/event/kinds.cpp); everything else is evidence of
  // something that happened on the seat.
  if (is_housekeeping_kind(e.kind)) return false;
  return e.severity != "info";
}

}  // namespace seatlock
