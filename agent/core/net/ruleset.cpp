#include "core/net/ruleset.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "core/net/address_space.hpp"
#include "core/net/domain_rules.hpp"
#include "core/net/generation.hpp"
#include "core/net/nft_duration.hpp"

namespace seatlock::net {

namespace {

constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

// Which allowlist a box belongs to: the seat-wide egress sets, a uid's exception sets, the
// inbound sets (matched on the source address and the local port), or the essential sets: the
// seat-wide entries that stay while the internet is closed. Those are in the seat-wide sets
// too, and both are always filled: close and open swap which sets chain `allow_out` looks in,
// so neither deletes or adds an element (docs/network.md "Close and open").
enum class SetKind { Base, Exception, Inbound, Essential };

// Boxes are collected per set piece (ruleset.hpp SetPieceKey).
using BoxMap = std::map<SetPieceKey, std::vector<Box>>;

SetPieceKey piece_key(SetKind kind, int family, const std::string& proto, std::int64_t uid) {
  return {static_cast<int>(kind), family, proto, uid};
}

bool same_box(const Box& x, const Box& y) {
  return x.addr_first == y.addr_first && x.addr_last == y.addr_last &&
         x.port_first == y.port_first && x.port_last == y.port_last && x.value == y.value;
}
bool same_boxes(const std::vector<Box>& a, const std::vector<Box>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same_box);
}

void add_rule(BoxMap& boxes, SetKind kind, const EgressRule& rule, std::int64_t uid,
              std::int64_t value) {
  // "any" without ports: the all-protocol sets; "any" with ports: tcp and udp. No temporaries:
  // this runs for each of 10,000 allow entries whenever network.allow changes.
  static const std::string kAll, kTcp = "tcp", kUdp = "udp";
  const bool any = rule.proto == "any";
  const std::string* protos[2] = {any && rule.ports.empty() ? &kAll
                                  : any                     ? &kTcp
                                                            : &rule.proto,
                                  any && !rule.ports.empty() ? &kUdp : nullptr};
  for (const auto& cidr : rule.to) {
    AddrRange r = cidr_range(cidr);
    for (const std::string* proto : protos) {
      if (!proto) continue;
      auto& list = boxes[piece_key(kind, r.family, *proto, uid)];
      if (proto->empty() || rule.ports.empty())
        list.push_back({r.first, r.last, 0, 65535, value});
      else
        for (const auto& p : rule.ports) list.push_back({r.first, r.last, p.first, p.last, value});
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

// Into the seat-wide and the essential sets (resolvers, NTP and the collector stay when closed).
void add_host(BoxMap& boxes, const std::string& address, const std::string& proto,
              std::uint16_t port) {
  auto a = parse_address(address);
  if (!a) throw std::invalid_argument("not an IP address: " + address);
  for (SetKind kind : {SetKind::Base, SetKind::Essential})
    boxes[piece_key(kind, a->family, proto, -1)].push_back(
        {a->first, a->last, port, port, kForever});
}

std::string port_text(const Box& b) {
  return b.port_first == b.port_last
             ? std::to_string(b.port_first)
             : std::to_string(b.port_first) + "-" + std::to_string(b.port_last);
}

// The management path: "addr . proto . port" elements without timeout (the guard's carry one).
std::vector<std::string> management_elements(const NetRules& rules, int family) {
  std::map<std::string, std::vector<Box>> by_proto;
  auto add = [&](const std::string& address, const std::string& proto, std::uint16_t port) {
    auto a = parse_address(address);
    if (!a) throw std::invalid_argument("not an IP address: " + address);
    if (a->family == family) by_proto[proto].push_back({a->first, a->last, port, port, kForever});
  };
  for (const auto& c : rules.collector) add(c.address, c.proto, c.port);
  // With the DNS guard, only its marked sockets reach the resolvers (domain_rules.hpp).
  if (rules.dns_guard_port == 0)
    for (const auto& dns : rules.dns) {
      add(dns, "udp", 53);
      add(dns, "tcp", 53);
    }
  std::vector<std::string> out;
  for (const auto& [proto, list] : by_proto)
    for (const Box& b : disjoint_boxes(list))
      out.push_back(format_range({family, b.addr_first, b.addr_last}) + " . " +
                    proto_number(proto) + " . " + port_text(b));
  return out;
}

void management_sets(std::ostringstream& o, const NetRules& rules, std::size_t& count) {
  for (int family : {4, 6}) {
    auto el = management_elements(rules, family);
    count += el.size();
    o << "  set " << management_set_name(family) << " {\n    type "
      << (family == 4 ? "ipv4_addr" : "ipv6_addr")
      << " . inet_proto . inet_service\n    flags interval,timeout\n";
    if (!el.empty()) {
      o << "    elements = { ";
      for (std::size_t i = 0; i < el.size(); ++i) o << el[i] << (i + 1 < el.size() ? ", " : " ");
      o << "}\n";
    }
    o << "  }\n";
  }
}

// Set names: base4/base6 (addr . proto . port), any4/any6 (addr), ess4/ess6 and essany4/essany6
// (the same types), exc4/exc6 and excany4/excany6 (uid . ...), in4/in6 and inany4/inany6
// (source addr ...). All exist in every table so a chain never refers to a missing set.
std::string set_name(int family, SetKind kind, bool any) {
  std::string n = kind == SetKind::Exception   ? (any ? "excany" : "exc")
                  : kind == SetKind::Inbound   ? (any ? "inany" : "in")
                  : kind == SetKind::Essential ? (any ? "essany" : "ess")
                                               : (any ? "any" : "base");
  return n + (family == 4 ? "4" : "6");
}

std::string set_type(int family, SetKind kind, bool any) {
  std::string addr = family == 4 ? "ipv4_addr" : "ipv6_addr";
  std::string t = kind == SetKind::Exception ? "uid . " + addr : addr;
  if (!any) t += " . inet_proto . inet_service";
  return t;
}

constexpr SetKind kKinds[] = {SetKind::Base, SetKind::Essential, SetKind::Exception,
                              SetKind::Inbound};

// DHCP destinations: the broadcast address and the lease servers (v4); the All DHCP Relay
// Agents and Servers group (v6, which clients always use unless a server asks for unicast).
std::vector<std::string> dhcp4_elements(const NetRules& rules) {
  std::set<std::string> v4 = {"255.255.255.255"};
  for (const auto& s : rules.dhcp_servers) {
    auto a = parse_address(s);
    if (!a || a->family != 4) throw std::invalid_argument("not an IPv4 address: " + s);
    v4.insert(format_range(*a));
  }
  return {v4.begin(), v4.end()};
}

// `v4` null: the definitions without dhcp4's elements (the skeleton), so that a new lease server
// is an element update, not a replace of both tables.
std::string dhcp_set_definitions(const std::vector<std::string>* v4) {
  std::string o = "  set dhcp4 {\n    type ipv4_addr\n";
  if (v4) {
    o += "    elements = { ";
    for (std::size_t i = 0; i < v4->size(); ++i) o += (*v4)[i] + (i + 1 < v4->size() ? ", " : " ");
    o += "}\n";
  }
  return o + "  }\n  set dhcp6 {\n    type ipv6_addr\n    elements = { ff02::1:2 }\n  }\n";
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

std::string management_set_name(int family) {
  return family == 4 ? "mgmt4" : "mgmt6";
}

namespace {

bool same_rule(const EgressRule& a, const EgressRule& b) {
  return a.to == b.to && a.ports == b.ports && a.proto == b.proto && a.essential == b.essential;
}
bool same_inbound(const InboundRule& a, const InboundRule& b) {
  return a.from == b.from && a.ports == b.ports && a.proto == b.proto;
}
bool same_endpoint(const Endpoint& a, const Endpoint& b) {
  return a.address == b.address && a.port == b.port && a.proto == b.proto;
}
template <class T, class Eq>
bool same_list(const std::vector<T>& a, const std::vector<T>& b, Eq eq) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), eq);
}

// Everything the base, essential and inbound pieces are made of (not the closed state: they
// are the same closed or open).
bool same_seat_wide_input(const NetRules& a, const NetRules& b) {
  return (a.dns_guard_port == 0) == (b.dns_guard_port == 0) && a.dns == b.dns && a.ntp == b.ntp &&
         same_list(a.collector, b.collector, same_endpoint) &&
         same_list(a.inbound, b.inbound, same_inbound) && same_list(a.allow, b.allow, same_rule);
}

std::string element_key(const SetPieceKey& key, const Box& b) {
  std::string e;
  if (key.uid >= 0) e = std::to_string(key.uid) + " . ";
  e += format_range({key.family, b.addr_first, b.addr_last});
  if (!key.proto.empty()) e += " . " + proto_number(key.proto) + " . " + port_text(b);
  return e;
}

// A piece from its input boxes. The text of each merged box that `before` had too is taken from
// it: an allow entry added to 10,000 formats a handful of elements, not 10,000.
std::shared_ptr<const SetPiece> make_piece(const SetPieceKey& key, std::vector<Box> input,
                                           const SetPiece* before) {
  const auto kind = static_cast<SetKind>(key.kind);
  auto piece = std::make_shared<SetPiece>();
  piece->set = set_name(key.family, kind, key.proto.empty());
  piece->expires = kind == SetKind::Exception;
  piece->input = std::move(input);
  piece->merged = disjoint_boxes(piece->input);
  const auto& merged = piece->merged;
  piece->keys.resize(merged.size());
  std::vector<bool> known(merged.size(), false);
  if (before && !before->merged.empty()) {
    const auto old_order = box_order(before->merged), new_order = box_order(merged);
    for (std::size_t i = 0, j = 0; i < old_order.size() && j < new_order.size();) {
      const Box &o = before->merged[old_order[i]], &n = merged[new_order[j]];
      if (box_less(o, n)) {
        ++i;
      } else if (box_less(n, o)) {
        ++j;
      } else {
        piece->keys[new_order[j]] = before->keys[old_order[i]];
        known[new_order[j]] = true;
        ++i, ++j;
      }
    }
  }
  for (std::size_t i = 0; i < merged.size(); ++i)
    if (!known[i]) piece->keys[i] = element_key(key, merged[i]);
  return piece;
}

CompiledRuleset compile(const NetRules& given, UnixMillis now, const NetRules* before_rules,
                        const CompiledRuleset* previous) {
  CompiledRuleset out;
  out.generation = previous ? previous->generation : seed_generation(now);
  out.closed = closed_at(given, now);
  out.closure = closure_in_force(given, now);
  if (out.closure && out.closure->until) out.next_expiry = *out.closure->until;
  // `rules.closed` is the effective state (for the domain sets); copied only when it differs
  // (a copy of 10,000 allow entries is a good part of a recompile).
  std::optional<NetRules> with_closed;
  if (given.closed != out.closed) {
    with_closed = given;
    with_closed->closed = out.closed;
  }
  const NetRules& rules = with_closed ? *with_closed : given;
  for (const auto& rule : rules.allow)
    if (rules.closed && !rule.essential) ++out.suspended_allow;
  for (const auto& d : rules.allow_domains)
    if (rules.closed && !d.essential) ++out.suspended_allow;
  BoxMap boxes;
  // The seat-wide and inbound sets: taken over as they are when none of their input changed.
  const bool reuse_seat_wide = previous && same_seat_wide_input(rules, *before_rules);
  if (reuse_seat_wide) {
    for (const auto& [key, piece] : previous->pieces)
      if (static_cast<SetKind>(key.kind) != SetKind::Exception) out.pieces.emplace(key, piece);
  } else {
    for (const auto& rule : rules.allow) {
      add_rule(boxes, SetKind::Base, rule, -1, kForever);
      if (rule.essential) add_rule(boxes, SetKind::Essential, rule, -1, kForever);
    }
    for (const auto& in : rules.inbound)
      add_rule(boxes, SetKind::Inbound, {in.from, in.ports, in.proto, in.comment}, -1, kForever);
    // The resolvers and the collector stay in the base sets too (the forward chain's allowlist:
    // containers kept their DNS); the seat's own traffic to them passes the management rules.
    // With the DNS guard, only its marked sockets reach the resolvers (domain_rules.hpp).
    for (const auto& dns : rules.dns) {
      if (rules.dns_guard_port != 0) break;
      add_host(boxes, dns, "udp", 53);
      add_host(boxes, dns, "tcp", 53);
    }
    for (const auto& ntp : rules.ntp) add_host(boxes, ntp, "udp", 123);
    for (const auto& c : rules.collector) add_host(boxes, c.address, c.proto, c.port);
  }
  for (const auto& e : rules.exceptions) {
    if (e.until <= now) continue;
    if (!out.next_expiry || e.until < *out.next_expiry) out.next_expiry = e.until;
    // Its elements stay while closed (with their kernel timeouts), unused by the chains.
    if (!rules.closed)
      out.active.push_back({e.ticket, e.users, e.groups, e.uids.size(), e.until, e.source});
    for (std::uint32_t uid : std::set<std::uint32_t>(e.uids.begin(), e.uids.end()))
      for (const auto& rule : e.allow) add_rule(boxes, SetKind::Exception, rule, uid, e.until);
  }

  for (auto& [key, list] : boxes) {
    const SetPiece* before = nullptr;
    if (previous)
      if (auto it = previous->pieces.find(key); it != previous->pieces.end())
        before = it->second.get();
    if (before && same_boxes(before->input, list))
      out.pieces.emplace(key, previous->pieces.at(key));  // unchanged input: shared
    else
      out.pieces.emplace(key, make_piece(key, std::move(list), before));
  }
  // What the chains use: while closed the essential sets stand for the seat-wide ones and the
  // exceptions' elements are not looked at.
  for (const auto& [key, piece] : out.pieces) {
    const auto kind = static_cast<SetKind>(key.kind);
    if (kind == SetKind::Inbound)
      out.inbound_elements += piece->merged.size();
    else if (kind == (out.closed ? SetKind::Essential : SetKind::Base))
      out.base_elements += piece->merged.size();
    else if (kind == SetKind::Exception && !out.closed)
      out.exception_elements += piece->merged.size();
  }

  // `sets` is the full text, `skeleton` the same without the allow sets' elements.
  std::string& o = out.sets;
  std::string& skeleton = out.skeleton;
  std::size_t size = 4096;
  for (const auto& [key, piece] : out.pieces)
    for (const auto& k : piece->keys) size += k.size() + 32;
  o.reserve(size);
  auto both = [&](const std::string& text) {
    o += text;
    skeleton += text;
  };
  for (const char* c : {"denied", "audited", "source_denied", "inbound_denied", "forward_denied"})
    both(std::string("  counter ") + c + " { }\n");
  for (int family : {4, 6})
    for (SetKind kind : kKinds)
      for (bool any : {false, true}) {
        const bool exc = kind == SetKind::Exception;
        std::string name = set_name(family, kind, any);
        both("  set " + name + " {\n    type " + set_type(family, kind, any) +
             "\n    flags interval" + (exc ? ",timeout" : "") + "\n");
        bool first = true;
        for (const auto& [key, piece] : out.pieces) {
          if (piece->set != name) continue;
          for (std::size_t i = 0; i < piece->keys.size(); ++i) {
            o += first ? "    elements = {\n      " : ",\n      ";
            o += piece->keys[i];
            if (piece->expires) o += " timeout " + nft_duration(piece->merged[i].value - now);
            first = false;
          }
        }
        if (!first) o += "\n    }\n";
        both("  }\n");
      }
  std::ostringstream rest;
  management_sets(rest, rules, out.management_elements);
  planned_sets(rest, rules);
  both(rest.str());
  out.dhcp4 = dhcp4_elements(rules);
  o += dhcp_set_definitions(&out.dhcp4);
  skeleton += dhcp_set_definitions(nullptr);
  both(domain_set_definitions(rules, now));
  out.owned_chains = filter_chains(rules, true, 0);
  out.fallback_chains = filter_chains(rules, false, 10);
  out.allow_out = allow_out_rules(rules);
  out.allow_fwd = allow_forward_rules(rules);
  return out;
}

}  // namespace

CompiledRuleset compile_ruleset(const NetRules& rules, UnixMillis now) {
  return compile(rules, now, nullptr, nullptr);
}

CompiledRuleset compile_ruleset(const NetRules& rules, UnixMillis now, const NetRules& before_rules,
                                const CompiledRuleset& before) {
  return compile(rules, now, &before_rules, &before);
}

}  // namespace seatlock::net
