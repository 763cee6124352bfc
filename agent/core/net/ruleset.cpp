#include "core/net/ruleset.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "core/net/address_space.hpp"

namespace seatlock::net {

namespace {

constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

// Boxes are collected per set: key = (family, proto, uid); proto "" = the all-protocol sets.
struct SetKey {
  int family;
  std::string proto;
  std::int64_t uid;  // -1 for the base sets
  bool operator<(const SetKey& o) const {
    return std::tie(family, proto, uid) < std::tie(o.family, o.proto, o.uid);
  }
};
using BoxMap = std::map<SetKey, std::vector<Box>>;

void add_rule(BoxMap& boxes, const EgressRule& rule, std::int64_t uid, std::int64_t value) {
  std::vector<std::string> protos;
  if (rule.proto == "any" && rule.ports.empty())
    protos = {""};
  else if (rule.proto == "any")
    protos = {"tcp", "udp"};
  else
    protos = {rule.proto};
  std::vector<PortRange> ports = rule.ports;
  if (ports.empty()) ports.push_back({0, 65535});
  for (const auto& cidr : rule.to) {
    AddrRange r = cidr_range(cidr);
    for (const auto& proto : protos) {
      auto& list = boxes[{r.family, proto, uid}];
      if (proto.empty())
        list.push_back({r.first, r.last, 0, 65535, value});
      else
        for (const auto& p : ports) list.push_back({r.first, r.last, p.first, p.last, value});
    }
  }
}

// Protocols go into the ruleset as numbers: nft 1.0.6 resolves names through /etc/protocols
// (netbase), which minimal and early-boot systems may not have ("Could not resolve protocol
// name" made the boot oneshot fail on a minbase seat).
std::string proto_number(const std::string& name) {
  if (name == "tcp") return "6";
  if (name == "udp") return "17";
  if (name == "icmp") return "1";
  if (name == "ipv6-icmp") return "58";
  return name;  // already numeric
}

void add_host(BoxMap& boxes, const std::string& address, const std::string& proto,
              std::uint16_t port) {
  auto a = parse_address(address);
  if (!a) throw std::invalid_argument("not an IP address: " + address);
  boxes[{a->family, proto, -1}].push_back({a->first, a->last, port, port, kForever});
}

// "1d2h3m4s5ms": nft 1.0.6 refuses large single-unit values ("7200000000ms" is "value too
// large"), while a composite duration of any length parses.
std::string nft_duration(std::int64_t ms) {
  std::string out;
  const std::pair<std::int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) out += std::to_string(ms / size) + name;
    ms %= size;
  }
  if (ms > 0 || out.empty()) out += std::to_string(ms) + "ms";
  return out;
}

std::string port_text(const Box& b) {
  return b.port_first == b.port_last
             ? std::to_string(b.port_first)
             : std::to_string(b.port_first) + "-" + std::to_string(b.port_last);
}

struct SetText {
  std::vector<std::string> elements;
};

// Set names: base4/base6 (addr . proto . port), any4/any6 (addr), exc4/exc6 and excany4/excany6
// (uid . ...). All exist in every table so the chain never refers to a missing set.
std::string set_name(int family, bool exception, bool any) {
  std::string n = exception ? (any ? "excany" : "exc") : (any ? "any" : "base");
  return n + (family == 4 ? "4" : "6");
}

std::string set_type(int family, bool exception, bool any) {
  std::string addr = family == 4 ? "ipv4_addr" : "ipv6_addr";
  std::string t = exception ? "uid . " + addr : addr;
  if (!any) t += " . inet_proto . inet_service";
  return t;
}

void planned_lists(const NetRules& rules, std::vector<std::string>& planned4,
                   std::vector<std::string>& planned6) {
  for (const auto& p : rules.addresses) {
    auto a = parse_address(p.address.address);
    if (!a) throw std::invalid_argument("not an IP address: " + p.address.address);
    (a->family == 4 ? planned4 : planned6)
        .push_back("\"" + p.interface + "\" . " + format_range(*a));
  }
}

void planned_sets(std::ostringstream& o, const NetRules& rules) {
  std::vector<std::string> planned4, planned6;
  planned_lists(rules, planned4, planned6);
  auto planned_set = [&](const char* name, const char* type, const std::vector<std::string>& el) {
    if (el.empty()) return;
    o << "  set " << name << " {\n    type ifname . " << type << "\n    elements = { ";
    for (std::size_t i = 0; i < el.size(); ++i) o << el[i] << (i + 1 < el.size() ? ", " : " ");
    o << "}\n  }\n";
  };
  planned_set("planned4", "ipv4_addr", planned4);
  planned_set("planned6", "ipv6_addr", planned6);
}

}  // namespace

CompiledRuleset compile_ruleset(const NetRules& rules, UnixMillis now) {
  CompiledRuleset out;
  BoxMap boxes;
  for (const auto& rule : rules.allow) add_rule(boxes, rule, -1, kForever);
  for (const auto& dns : rules.dns) {
    add_host(boxes, dns, "udp", 53);
    add_host(boxes, dns, "tcp", 53);
  }
  for (const auto& ntp : rules.ntp) add_host(boxes, ntp, "udp", 123);
  for (const auto& c : rules.collector) add_host(boxes, c.address, c.proto, c.port);
  for (const auto& e : rules.exceptions) {
    if (e.until <= now) continue;
    if (!out.next_expiry || e.until < *out.next_expiry) out.next_expiry = e.until;
    if (rules.closed) continue;
    out.active.push_back({e.ticket, e.users, e.groups, e.uids.size(), e.until, e.source});
    for (std::uint32_t uid : std::set<std::uint32_t>(e.uids.begin(), e.uids.end()))
      for (const auto& rule : e.allow) add_rule(boxes, rule, uid, e.until);
  }

  std::map<std::string, SetText> sets;
  for (int family : {4, 6})
    for (bool exc : {false, true})
      for (bool any : {false, true}) sets[set_name(family, exc, any)];
  for (auto& [key, list] : boxes) {
    bool exception = key.uid >= 0, any = key.proto.empty();
    auto& set = sets[set_name(key.family, exception, any)];
    for (const Box& b : disjoint_boxes(std::move(list))) {
      std::string e;
      if (exception) e = std::to_string(key.uid) + " . ";
      e += format_range({key.family, b.addr_first, b.addr_last});
      if (!any) e += " . " + proto_number(key.proto) + " . " + port_text(b);
      if (exception) e += " timeout " + nft_duration(b.value - now);
      set.elements.push_back(std::move(e));
      (exception ? out.exception_elements : out.base_elements)++;
    }
  }

  std::ostringstream o;
  for (const char* c : {"denied", "audited", "source_denied"}) o << "  counter " << c << " { }\n";
  for (int family : {4, 6})
    for (bool exc : {false, true})
      for (bool any : {false, true}) {
        std::string name = set_name(family, exc, any);
        o << "  set " << name << " {\n    type " << set_type(family, exc, any)
          << "\n    flags interval" << (exc ? ",timeout" : "") << "\n";
        const auto& el = sets[name].elements;
        if (!el.empty()) {
          o << "    elements = {\n";
          for (std::size_t i = 0; i < el.size(); ++i)
            o << "      " << el[i] << (i + 1 < el.size() ? ",\n" : "\n");
          o << "    }\n";
        }
        o << "  }\n";
      }
  planned_sets(o, rules);
  out.sets = o.str();
  return out;
}

std::string output_chain(const NetRules& rules, bool with_log, int priority_offset) {
  std::vector<std::string> planned4, planned6;
  planned_lists(rules, planned4, planned6);
  std::ostringstream o;
  const bool enforce = rules.mode == Mode::Enforce;
  const std::string limit = !with_log ? std::string()
                                      : "limit rate " + std::to_string(rules.log_rate) +
                                            "/second log group " + std::to_string(rules.log_group) +
                                            " prefix ";
  o << "  chain output {\n"
    << "    type filter hook output priority filter"
    << (priority_offset ? " + " + std::to_string(priority_offset) : std::string()) << "; policy "
    << (enforce ? "drop" : "accept") << ";\n"
    << "    oifname \"lo\" accept\n"
    // Replies to connections the remote side opened (IT's SSH into the seat). Connections the
    // seat opened are re-checked on every packet below, so close/expiry also cut them.
    << "    ct direction reply accept\n"
    << "    ct state related meta l4proto { 1, 58 } accept\n"  // icmp, ipv6-icmp
    << "    udp sport 68 udp dport 67 accept\n"
    << "    udp sport 546 udp dport 547 accept\n"
    << "    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, "
       "mld-listener-report, "
       "mld2-listener-report } accept\n"
    << "    icmp type { destination-unreachable, time-exceeded, parameter-problem } accept\n"
    << "    icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
       "parameter-problem } accept\n";
  const std::string source_verdict =
      enforce ? "counter name source_denied drop" : "counter name audited";
  if (!planned4.empty()) {
    const std::string m = "    meta nfproto ipv4 oifname . ip saddr != @planned4 ";
    if (with_log) o << m << limit << "\"" << kPrefixSource << " \"\n";
    o << m << source_verdict << "\n";
  }
  if (!planned6.empty()) {
    const std::string m =
        "    meta nfproto ipv6 ip6 saddr != fe80::/10 oifname . ip6 saddr != @planned6 ";
    if (with_log) o << m << limit << "\"" << kPrefixSource << " \"\n";
    o << m << source_verdict << "\n";
  }
  o << "    ip daddr . meta l4proto . th dport @base4 accept\n"
    << "    ip6 daddr . meta l4proto . th dport @base6 accept\n"
    << "    ip daddr @any4 accept\n"
    << "    ip6 daddr @any6 accept\n"
    << "    meta skuid . ip daddr . meta l4proto . th dport @exc4 accept\n"
    << "    meta skuid . ip6 daddr . meta l4proto . th dport @exc6 accept\n"
    << "    meta skuid . ip daddr @excany4 accept\n"
    << "    meta skuid . ip6 daddr @excany6 accept\n"
    << (with_log ? "    " + limit + "\"" + (enforce ? kPrefixDenied : kPrefixAudit) + " \"\n"
                 : std::string())
    << "    " << (enforce ? "counter name denied drop" : "counter name audited accept") << "\n"
    << "  }\n";
  return o.str();
}

std::string table_definition(const std::string& table, bool owner, const CompiledRuleset& compiled,
                             const std::string& chain) {
  return "table inet " + table + " {\n" + (owner ? "  flags owner;\n" : "") + compiled.sets +
         chain + "}\n";
}

std::string fallback_transaction(const NetRules& rules, const CompiledRuleset& compiled) {
  return replace_table(
      kFallbackTable, false,
      table_definition(kFallbackTable, false, compiled, output_chain(rules, false, 10)));
}

std::string full_transaction(const NetRules& rules, const CompiledRuleset& compiled) {
  return replace_table(
             kOwnedTable, true,
             table_definition(kOwnedTable, true, compiled, output_chain(rules, true, 0))) +
         fallback_transaction(rules, compiled);
}

std::string replace_table(const std::string& table, bool owner, const std::string& definition) {
  return "add table inet " + table + (owner ? " { flags owner; }" : "") + "\ndelete table inet " +
         table + "\n" + definition;
}

}  // namespace seatlock::net
