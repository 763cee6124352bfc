#include "core/policy/cidr.hpp"
#include "core/policy/domain_name.hpp"
#include "core/policy/formats.hpp"
#include "core/policy/validate.hpp"
#include "core/util/time.hpp"

namespace seatlock::policy_check {
namespace pf = policy_format;

namespace {

std::string check_network(const std::string& s) {
  return parse_cidr(s).error;
}

// An allow entry's destination: a CIDR, or a domain name / wildcard the DNS guard resolves.
std::string check_destination(const std::string& s) {
  return looks_like_domain(s) ? parse_domain_pattern(s).error : parse_cidr(s).error;
}

std::string check_ip(const std::string& s) {
  if (parse_ip(s)) return "";
  return "expected an IPv4 or IPv6 address, got " + json(s).dump();
}

std::string check_proto(const std::string& s) {
  if (s == "tcp" || s == "udp" || s == "any") return "";
  return "expected \"tcp\", \"udp\" or \"any\", got " + json(s).dump();
}

// An allow entry ({to,...}) or an inbound entry ({from,...}): the same shape, only the key that
// names the networks differs. Only network.allow's entries (site == true) may be "essential".
void validate_net_entry(const json& e, const std::string& ptr, Checker& c, const char* key,
                        bool site = false) {
  if (site ? !c.object(e, ptr, {key, "ports", "proto", "comment", "essential"}, {key})
           : !c.object(e, ptr, {key, "ports", "proto", "comment"}, {key}))
    return;
  if (site && e.contains("essential")) c.is_bool(e["essential"], ptr + "/essential");
  const std::string kptr = ptr + "/" + key;
  if (e.contains(key)) {
    const json& to = e[key];
    const bool names = std::string(key) == "to";  // inbound sources are addresses only
    auto check = names ? check_destination : check_network;
    if (to.is_string()) {
      c.string_format(to, kptr, check);
    } else if (to.is_array() && !to.empty()) {
      c.string_array(to, kptr, check);
    } else if (names) {
      c.error(kptr,
              "expected a CIDR such as \"10.20.0.0/16\", a domain name such as "
              "\"crm.example.com\" or a non-empty array of them, got " +
                  pf::describe(to));
    } else {
      c.error(kptr, "expected a CIDR such as \"10.20.0.0/16\" or a non-empty array of them, got " +
                        pf::describe(to));
    }
  }
  if (e.contains("ports") && c.is_array(e["ports"], ptr + "/ports")) {
    const json& ports = e["ports"];
    if (ports.empty())
      c.error(ptr + "/ports",
              "expected at least one port (leave \"ports\" out to allow all ports)");
    for (std::size_t i = 0; i < ports.size(); ++i) {
      std::string problem = pf::check_port(ports[i]);
      if (!problem.empty()) c.error(ptr + "/ports/" + std::to_string(i), problem);
    }
  }
  if (e.contains("proto")) c.string_format(e["proto"], ptr + "/proto", check_proto);
  if (e.contains("comment")) c.is_string(e["comment"], ptr + "/comment");
}

void validate_entry_list(const json& v, const std::string& ptr, Checker& c, const char* key,
                         bool site = false) {
  if (!c.is_array(v, ptr)) return;
  for (std::size_t i = 0; i < v.size(); ++i)
    validate_net_entry(v[i], ptr + "/" + std::to_string(i), c, key, site);
}

void validate_allow_list(const json& v, const std::string& ptr, Checker& c) {
  validate_entry_list(v, ptr, c, "to");
}

void validate_exception(const json& e, const std::string& ptr, Checker& c,
                        const PolicyLoadOptions& options) {
  if (!c.object(e, ptr, {"users", "groups", "allow", "until", "ticket", "comment"},
                {"allow", "until", "ticket"}))
    return;
  auto user = [](const std::string& s) { return pf::check_posix_name(s, "user"); };
  auto group = [](const std::string& s) { return pf::check_posix_name(s, "group"); };
  if (e.contains("users")) c.string_array(e["users"], ptr + "/users", user);
  if (e.contains("groups")) c.string_array(e["groups"], ptr + "/groups", group);
  auto nonempty = [&](const char* k) { return e.contains(k) && e[k].is_array() && !e[k].empty(); };
  if (!nonempty("users") && !nonempty("groups") &&
      !(e.contains("users") && !e["users"].is_array()) &&
      !(e.contains("groups") && !e["groups"].is_array()))
    c.error(ptr,
            "expected \"users\" or \"groups\" with at least one name (who the exception is for)");
  if (e.contains("allow")) {
    validate_allow_list(e["allow"], ptr + "/allow", c);
    if (e["allow"].is_array() && e["allow"].empty())
      c.error(ptr + "/allow", "expected at least one allow entry");
  }
  if (e.contains("ticket")) c.string_format(e["ticket"], ptr + "/ticket", pf::check_ticket);
  if (e.contains("comment")) c.is_string(e["comment"], ptr + "/comment");
  check_until(e, ptr, c, options);
}

// network.closed. An `until` already passed is not an error anywhere (a bundle or tree written
// while it was ahead stays valid): the closure is left out with a warning, the seat is open.
void validate_closure(const json& v, Checker& c, const PolicyLoadOptions& options) {
  const std::string ptr = "/network/closed";
  if (!c.object(v, ptr, {"ticket", "by", "since", "until"}, {"ticket"})) return;
  if (v.contains("ticket")) c.string_format(v["ticket"], ptr + "/ticket", pf::check_ticket);
  if (v.contains("by"))
    c.string_format(v["by"], ptr + "/by", [](const std::string& s) {
      return s.find_first_not_of(" \t") == std::string::npos
                 ? std::string("expected who closed it (a name), got an empty string")
                 : std::string();
    });
  std::optional<UnixMillis> times[2];
  const char* keys[2] = {"since", "until"};
  for (int i = 0; i < 2; ++i) {
    if (!v.contains(keys[i])) continue;
    const std::string p = ptr + "/" + keys[i];
    if (!c.is_string(v[keys[i]], p)) continue;
    times[i] = parse_rfc3339(v[keys[i]].get<std::string>());
    if (!times[i])
      c.error(p, "expected an RFC 3339 time with offset, got " + pf::describe(v[keys[i]]));
  }
  if (times[0] && times[1] && *times[1] <= *times[0])
    c.error(ptr + "/until", "expected a time after \"since\" (" + v["since"].get<std::string>() +
                                "), got " + v["until"].get<std::string>());
  else if (times[1] && *times[1] <= options.now) {
    c.warning(ptr + "/until", "closure ended at " + v["until"].get<std::string>() +
                                  "; not in force (the seat is open unless closed elsewhere)");
    c.dropped().insert(ptr);
  }
}

// network.dns_guard (docs/dns.md "Policy"): both durations at most a day, the longest element
// timeout the guard writes.
void validate_dns_guard(const json& v, Checker& c) {
  const std::string ptr = "/network/dns_guard";
  if (!c.object(v, ptr, {"ttl_floor", "grace", "max_addresses_per_name"})) return;
  for (const char* key : {"ttl_floor", "grace"})
    if (v.contains(key))
      c.string_format(v[key], ptr + "/" + key, [](const std::string& s) {
        std::string problem = pf::check_duration(s);
        if (problem.empty() && *parse_duration_ms(s) > 86'400'000)
          problem = "expected at most 1d (the longest element timeout), got \"" + s + "\"";
        return problem;
      });
  if (v.contains("max_addresses_per_name"))
    c.is_positive_int(v["max_addresses_per_name"], ptr + "/max_addresses_per_name", 1024);
}

void validate_addresses(const json& v, Checker& c) {
  if (!v.is_object()) {
    c.error("/network/addresses",
            "expected an object mapping interface names to addresses, got " + pf::describe(v));
    return;
  }
  for (const auto& [name, addr] : v.items()) {
    std::string ptr = "/network/addresses/" + json_pointer_escape(name);
    std::string problem = pf::check_interface_name(name);
    if (!problem.empty()) c.error_at_key(ptr, problem);
    c.string_format(addr, ptr,
                    [](const std::string& s) { return parse_interface_address(s).error; });
  }
}

}  // namespace

void validate_network(const json& v, Checker& c, const PolicyLoadOptions& options) {
  if (!c.object(v, "/network",
                {"mode", "allow", "closed", "inbound", "dns", "ntp", "exceptions", "addresses",
                 "denied_log", "dns_guard"}))
    return;
  if (v.contains("mode")) c.string_format(v["mode"], "/network/mode", pf::check_mode);
  if (v.contains("allow")) validate_entry_list(v["allow"], "/network/allow", c, "to", true);
  if (v.contains("closed")) validate_closure(v["closed"], c, options);
  if (v.contains("inbound")) validate_entry_list(v["inbound"], "/network/inbound", c, "from");
  if (v.contains("dns")) c.string_array(v["dns"], "/network/dns", check_ip);
  if (v.contains("ntp")) c.string_array(v["ntp"], "/network/ntp", check_ip);
  if (v.contains("exceptions") && c.is_array(v["exceptions"], "/network/exceptions")) {
    const json& list = v["exceptions"];
    for (std::size_t i = 0; i < list.size(); ++i)
      validate_exception(list[i], "/network/exceptions/" + std::to_string(i), c, options);
  }
  if (v.contains("addresses")) validate_addresses(v["addresses"], c);
  if (v.contains("denied_log") &&
      c.object(v["denied_log"], "/network/denied_log", {"window", "rate"})) {
    const json& d = v["denied_log"];
    if (d.contains("window"))
      c.string_format(d["window"], "/network/denied_log/window", pf::check_duration);
    if (d.contains("rate")) c.is_positive_int(d["rate"], "/network/denied_log/rate", 100000);
  }
  if (v.contains("dns_guard")) validate_dns_guard(v["dns_guard"], c);
}

}  // namespace seatlock::policy_check
