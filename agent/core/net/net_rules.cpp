#include "core/net/net_rules.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/net/address_space.hpp"
#include "core/net/net_rules_json.hpp"

namespace seatlock::net {

using nlohmann::json;

namespace {

std::optional<std::uint32_t> parse_uint(const std::string& s, std::uint32_t max) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  unsigned long long v = std::stoull(s);
  if (v > max) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

std::optional<PortRange> parse_port_range(const std::string& s) {
  auto dash = s.find('-');
  auto a = parse_uint(s.substr(0, dash), 65535);
  auto b = dash == std::string::npos ? a : parse_uint(s.substr(dash + 1), 65535);
  if (!a || !b || *a > *b) return std::nullopt;
  return PortRange{std::uint16_t(*a), std::uint16_t(*b)};
}

std::optional<Cidr> to_cidr(const std::string& text) {
  auto r = parse_cidr_range(text);
  if (!r) return std::nullopt;
  auto slash = text.find('/');
  int prefix =
      slash == std::string::npos ? (r->family == 4 ? 32 : 128) : std::stoi(text.substr(slash + 1));
  return Cidr{r->family, format_address(r->family, r->first), prefix};
}

json rule_to_json(const EgressRule& r) {
  json to = json::array(), ports = json::array();
  for (const auto& c : r.to) to.push_back(c.text());
  for (const auto& p : r.ports) ports.push_back({p.first, p.last});
  json j = {{"to", to}, {"ports", ports}, {"proto", r.proto}};
  if (r.essential) j["essential"] = true;
  return j;
}

EgressRule rule_from_json(const json& j) {
  EgressRule r;
  for (const auto& t : j.at("to")) {
    auto c = to_cidr(t.get<std::string>());
    if (!c) throw std::runtime_error("bad CIDR " + t.dump());
    r.to.push_back(*c);
  }
  for (const auto& p : j.at("ports"))
    r.ports.push_back({p.at(0).get<std::uint16_t>(), p.at(1).get<std::uint16_t>()});
  r.proto = j.at("proto").get<std::string>();
  r.essential = j.value("essential", false);  // absent in files written before issue 14
  return r;
}

json domain_rule_to_json(const DomainRule& r) {
  json ports = json::array();
  for (const auto& p : r.ports) ports.push_back({p.first, p.last});
  json j = {{"names", r.names}, {"ports", ports}, {"proto", r.proto}};
  if (r.essential) j["essential"] = true;
  return j;
}

DomainRule domain_rule_from_json(const json& j) {
  DomainRule r;
  r.names = j.at("names").get<std::vector<std::string>>();
  for (const auto& p : j.at("ports"))
    r.ports.push_back({p.at(0).get<std::uint16_t>(), p.at(1).get<std::uint16_t>()});
  r.proto = j.at("proto").get<std::string>();
  r.essential = j.value("essential", false);
  return r;
}

}  // namespace

namespace detail {
json domain_rules_to_json(const std::vector<DomainRule>& rules) {
  json out = json::array();
  for (const auto& r : rules) out.push_back(domain_rule_to_json(r));
  return out;
}
}  // namespace detail

namespace {
using detail::domain_rules_to_json;

// Absent in state files written before domain entries existed.
std::vector<DomainRule> domain_rules_from_json(const json& j) {
  std::vector<DomainRule> out;
  if (j.contains("domains"))
    for (const auto& r : j.at("domains")) out.push_back(domain_rule_from_json(r));
  return out;
}

json inbound_to_json(const InboundRule& r) {
  json j = rule_to_json({r.from, r.ports, r.proto, r.comment});
  j["from"] = std::move(j["to"]);
  j.erase("to");
  return j;
}

InboundRule inbound_from_json(const json& j) {
  json as_allow = j;
  as_allow["to"] = j.at("from");
  EgressRule r = rule_from_json(as_allow);
  return {std::move(r.to), std::move(r.ports), std::move(r.proto), ""};
}

json closure_to_json(const NetClosure& c) {
  json j = {{"ticket", c.ticket}, {"by", c.by}, {"source", c.source}};
  if (c.since) j["since"] = *c.since;
  if (c.until) j["until"] = *c.until;
  return j;
}

NetClosure closure_from_json(const json& j) {
  NetClosure c;
  c.ticket = j.at("ticket").get<std::string>();
  c.by = j.value("by", "");
  c.source = j.value("source", "");
  if (j.contains("since")) c.since = j.at("since").get<UnixMillis>();
  if (j.contains("until")) c.until = j.at("until").get<UnixMillis>();
  return c;
}

}  // namespace

std::optional<NetClosure> closure_in_force(const NetRules& rules, UnixMillis now) {
  if (!rules.closure || (rules.closure->until && *rules.closure->until <= now)) return std::nullopt;
  return rules.closure;
}

bool closed_at(const NetRules& rules, UnixMillis now) {
  return rules.closed || closure_in_force(rules, now).has_value();
}

std::optional<CollectorTarget> parse_collector_url(const std::string& url) {
  auto scheme = url.find("://");
  if (url.empty() || scheme == std::string::npos) return std::nullopt;
  std::string rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  CollectorTarget t;
  t.port = url.compare(0, scheme, "http") == 0 ? 80 : 443;
  std::string port_text;
  if (!rest.empty() && rest[0] == '[') {  // [v6]:port
    auto close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    t.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::nullopt;
      port_text = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.rfind(':');
    t.host = rest.substr(0, colon);
    if (colon != std::string::npos) port_text = rest.substr(colon + 1);
  }
  if (!port_text.empty()) {
    auto p = parse_uint(port_text, 65535);
    if (!p || *p == 0) return std::nullopt;
    t.port = std::uint16_t(*p);
  }
  if (t.host.empty()) return std::nullopt;
  return t;
}

std::optional<EgressRule> parse_destination(const std::string& text) {
  std::string addr = text, ports;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    addr = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      ports = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {  // v4 with a port
    addr = text.substr(0, text.find(':'));
    ports = text.substr(text.find(':') + 1);
  }
  auto c = to_cidr(addr);
  if (!c) return std::nullopt;
  EgressRule r;
  r.to.push_back(*c);
  if (!ports.empty()) {
    auto p = parse_port_range(ports);
    if (!p) return std::nullopt;
    r.ports.push_back(*p);
  }
  return r;
}

NetRules make_net_rules(const Policy& policy, const std::vector<std::vector<std::uint32_t>>& uids,
                        const std::vector<std::string>& collector_addresses,
                        std::optional<Mode> mode_override, bool closed,
                        const std::vector<std::string>& dhcp_servers) {
  const NetworkPolicy& n = policy.network;
  NetRules r;
  r.mode = mode_override.value_or(n.mode);
  r.closed = closed;
  r.closure = n.closed;
  r.allow = n.allow;
  r.inbound = n.inbound;
  r.dhcp_servers = dhcp_servers;
  r.dns = n.dns;
  r.ntp = n.ntp;
  r.addresses = n.addresses;
  r.log_rate = n.denied_log_rate;
  if (auto target = parse_collector_url(policy.report.collector)) {
    for (const auto& a : collector_addresses) r.collector.push_back({a, target->port, "tcp"});
    auto literal = parse_address(target->host);
    if (!literal) {
      r.collector_host = target->host;
      r.collector_port = target->port;
    }
  }
  if (uids.size() != n.exceptions.size())
    throw std::invalid_argument("uid lists do not match the exceptions");
  for (std::size_t i = 0; i < n.exceptions.size(); ++i) {
    const auto& e = n.exceptions[i];
    r.exceptions.push_back(
        {e.ticket, e.users, e.groups, uids[i], e.allow, e.until, e.source, e.allow_domains});
  }
  // dns_guard_port stays 0 here: whoever runs the guard turns the redirect on (seatlockd's
  // network service, when the DNS guard runs: daemon/dns).
  r.allow_domains = n.allow_domains;
  return r;
}

namespace detail {

json small_parts_to_json(const NetRules& r) {
  json j;
  j["mode"] = to_string(r.mode);
  j["closed"] = r.closed;
  if (r.closure) j["closure"] = closure_to_json(*r.closure);
  j["dhcp_servers"] = r.dhcp_servers;
  j["dns"] = r.dns;
  j["ntp"] = r.ntp;
  j["collector"] = json::array();
  for (const auto& c : r.collector)
    j["collector"].push_back({{"address", c.address}, {"port", c.port}, {"proto", c.proto}});
  if (!r.collector_host.empty())
    j["collector_host"] = {{"host", r.collector_host}, {"port", r.collector_port}};
  j["domains"] = domain_rules_to_json(r.allow_domains);
  j["dns_guard_port"] = r.dns_guard_port;
  j["addresses"] = json::array();
  for (const auto& a : r.addresses)
    j["addresses"].push_back({{"interface", a.interface}, {"address", a.address.text()}});
  j["log_rate"] = r.log_rate;
  j["log_group"] = r.log_group;
  return j;
}

}  // namespace detail

json to_json(const NetRules& r) {
  json j = detail::small_parts_to_json(r);
  j["allow"] = json::array();
  for (const auto& a : r.allow) j["allow"].push_back(rule_to_json(a));
  j["inbound"] = json::array();
  for (const auto& a : r.inbound) j["inbound"].push_back(inbound_to_json(a));
  j["exceptions"] = json::array();
  for (const auto& e : r.exceptions) {
    json allow = json::array();
    for (const auto& a : e.allow) allow.push_back(rule_to_json(a));
    j["exceptions"].push_back({{"ticket", e.ticket},
                               {"users", e.users},
                               {"groups", e.groups},
                               {"uids", e.uids},
                               {"allow", allow},
                               {"until", e.until},
                               {"source", e.source},
                               {"domains", domain_rules_to_json(e.allow_domains)}});
  }
  return j;
}

NetRules net_rules_from_json(const json& j) {
  try {
    NetRules r;
    std::string mode = j.at("mode").get<std::string>();
    if (mode != "enforce" && mode != "audit") throw std::runtime_error("mode: " + mode);
    r.mode = mode == "audit" ? Mode::Audit : Mode::Enforce;
    r.closed = j.at("closed").get<bool>();
    if (j.contains("closure")) r.closure = closure_from_json(j.at("closure"));
    for (const auto& a : j.at("allow")) r.allow.push_back(rule_from_json(a));
    // Absent in state files written before inbound filtering: no inbound entry, broadcast-only
    // DHCP (seatlockd rewrites the file with both at its first apply).
    if (j.contains("inbound"))
      for (const auto& a : j.at("inbound")) r.inbound.push_back(inbound_from_json(a));
    if (j.contains("dhcp_servers"))
      r.dhcp_servers = j.at("dhcp_servers").get<std::vector<std::string>>();
    r.dns = j.at("dns").get<std::vector<std::string>>();
    r.ntp = j.at("ntp").get<std::vector<std::string>>();
    for (const auto& c : j.at("collector"))
      r.collector.push_back({c.at("address").get<std::string>(), c.at("port").get<std::uint16_t>(),
                             c.at("proto").get<std::string>()});
    if (j.contains("collector_host")) {
      r.collector_host = j.at("collector_host").at("host").get<std::string>();
      r.collector_port = j.at("collector_host").at("port").get<std::uint16_t>();
    }
    for (const auto& e : j.at("exceptions")) {
      ResolvedException x;
      x.ticket = e.at("ticket").get<std::string>();
      x.users = e.at("users").get<std::vector<std::string>>();
      x.groups = e.at("groups").get<std::vector<std::string>>();
      x.uids = e.at("uids").get<std::vector<std::uint32_t>>();
      for (const auto& a : e.at("allow")) x.allow.push_back(rule_from_json(a));
      x.until = e.at("until").get<UnixMillis>();
      x.source = e.at("source").get<std::string>();
      x.allow_domains = domain_rules_from_json(e);
      r.exceptions.push_back(std::move(x));
    }
    for (const auto& a : j.at("addresses")) {
      // A planned address keeps its host part ("10.1.2.117/24"), unlike an allow CIDR.
      std::string text = a.at("address").get<std::string>();
      auto slash = text.find('/');
      auto host = parse_address(text.substr(0, slash));
      auto net = parse_cidr_range(text);
      if (!host || !net) throw std::runtime_error("bad planned address " + text);
      int prefix = slash == std::string::npos ? (host->family == 4 ? 32 : 128)
                                              : std::stoi(text.substr(slash + 1));
      r.addresses.push_back(
          {a.at("interface").get<std::string>(),
           Cidr{host->family, format_address(host->family, host->first), prefix}});
    }
    r.log_rate = j.at("log_rate").get<std::uint32_t>();
    r.log_group = j.at("log_group").get<std::uint16_t>();
    r.allow_domains = domain_rules_from_json(j);
    r.dns_guard_port = j.value("dns_guard_port", std::uint16_t{0});
    return r;
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("network rules: ") + e.what());
  }
}

}  // namespace seatlock::net
