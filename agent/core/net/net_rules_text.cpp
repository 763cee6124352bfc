// to_json_text(): the NetRules line of the fallback file without building a JSON tree for the
// long lists (seatlockd rewrites the file after every change; 10,000 allow entries and 1,000
// exceptions through nlohmann cost ~15 ms or more, by hand about 2 ms).
#include "core/net/net_rules.hpp"
#include "core/net/net_rules_json.hpp"

namespace seatlock::net {

using nlohmann::json;

namespace {

// A JSON string as nlohmann would write it; plain text (the CIDRs, "tcp") is copied as it is.
void append_json_string(std::string& out, const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
      out += json(s).dump();
      return;
    }
  out += '"';
  out += s;
  out += '"';
}

// rule_to_json(r).dump() (keys in nlohmann's order) without building the tree: the fallback
// file is rewritten after every change, and 10,000 allow entries through nlohmann cost ~15 ms.
void append_rule_json(std::string& out, const std::vector<Cidr>& to, const char* to_key,
                      const std::vector<PortRange>& ports, const std::string& proto,
                      bool essential) {
  out += essential ? "{\"essential\":true,\"" : "{\"";
  const bool to_first = std::string(to_key) == "from";  // "from" sorts before "ports"
  auto write_to = [&] {
    out += to_key;
    out += "\":[";
    for (std::size_t i = 0; i < to.size(); ++i) {
      if (i) out += ',';
      // Cidr::text() without its temporaries (canonical address text needs no escaping; anything
      // else goes through append_json_string).
      const std::string& a = to[i].address;
      if (a.find_first_not_of("0123456789abcdefABCDEF.:") == std::string::npos) {
        out += '"';
        out += a;
        out += '/';
        out += std::to_string(to[i].prefix);
        out += '"';
      } else {
        append_json_string(out, to[i].text());
      }
    }
    out += ']';
  };
  if (to_first) {
    write_to();
    out += ",\"";
  }
  out += "ports\":[";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (i) out += ',';
    out += '[' + std::to_string(ports[i].first) + ',' + std::to_string(ports[i].last) + ']';
  }
  out += "],\"proto\":";
  append_json_string(out, proto);
  if (!to_first) {
    out += ",\"";
    write_to();
  }
  out += '}';
}

}  // namespace

std::string to_json_text(const NetRules& r) {
  std::string out;
  out.reserve(64 * (r.allow.size() + r.inbound.size()) + 4096);
  out += "{\"allow\":[";
  for (std::size_t i = 0; i < r.allow.size(); ++i) {
    if (i) out += ',';
    const EgressRule& a = r.allow[i];
    append_rule_json(out, a.to, "to", a.ports, a.proto, a.essential);
  }
  out += "],\"inbound\":[";
  for (std::size_t i = 0; i < r.inbound.size(); ++i) {
    if (i) out += ',';
    const InboundRule& a = r.inbound[i];
    append_rule_json(out, a.from, "from", a.ports, a.proto, false);
  }
  out += "],\"exceptions\":[";
  auto strings = [&](const char* key, const std::vector<std::string>& list) {
    out += key;
    out += '[';
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, list[i]);
    }
    out += ']';
  };
  for (std::size_t i = 0; i < r.exceptions.size(); ++i) {
    const ResolvedException& e = r.exceptions[i];
    out += i ? ",{\"allow\":[" : "{\"allow\":[";
    for (std::size_t k = 0; k < e.allow.size(); ++k) {
      if (k) out += ',';
      append_rule_json(out, e.allow[k].to, "to", e.allow[k].ports, e.allow[k].proto,
                       e.allow[k].essential);
    }
    out += "],\"domains\":";
    out += e.allow_domains.empty() ? "[]" : detail::domain_rules_to_json(e.allow_domains).dump();
    strings(",\"groups\":", e.groups);
    out += ",\"source\":";
    append_json_string(out, e.source);
    out += ",\"ticket\":";
    append_json_string(out, e.ticket);
    out += ",\"uids\":[";
    for (std::size_t k = 0; k < e.uids.size(); ++k) {
      if (k) out += ',';
      out += std::to_string(e.uids[k]);
    }
    out += "],\"until\":" + std::to_string(e.until);
    strings(",\"users\":", e.users);
    out += '}';
  }
  out += "],";
  out += detail::small_parts_to_json(r).dump().substr(1);  // "{...}" without its "{"
  return out;
}

}  // namespace seatlock::net
