#include "core/net/domain_rules.hpp"

#include <set>
#include <sstream>
#include <stdexcept>

#include "core/net/address_space.hpp"
#include "core/net/nft_duration.hpp"
#include "core/net/ruleset.hpp"

namespace seatlock::net {

namespace {

// "meta l4proto 6 th dport { 443, 8000-8080 } " or "" (every protocol and port).
std::string proto_ports(const DomainRule& r) {
  if (r.proto == "any" && r.ports.empty()) return "";
  std::string out = r.proto == "tcp"   ? "meta l4proto 6 "
                    : r.proto == "udp" ? "meta l4proto 17 "
                                       : "meta l4proto { 6, 17 } ";
  if (r.ports.empty()) return out;
  out += "th dport { ";
  for (std::size_t i = 0; i < r.ports.size(); ++i) {
    const PortRange& p = r.ports[i];
    out += std::to_string(p.first);
    if (p.last != p.first) out += "-" + std::to_string(p.last);
    out += i + 1 < r.ports.size() ? ", " : " ";
  }
  return out + "} ";
}

void dynamic_set(std::ostringstream& o, const std::string& name, int family) {
  o << "  set " << name << " {\n    type " << (family == 4 ? "ipv4_addr" : "ipv6_addr")
    << "\n    flags timeout\n  }\n";
}

void resolver_set(std::ostringstream& o, const NetRules& rules, int family) {
  o << "  set dnsres" << family << " {\n    type " << (family == 4 ? "ipv4_addr" : "ipv6_addr")
    << "\n";
  std::vector<std::string> el;
  for (const auto& r : rules.dns) {
    auto a = parse_address(r);
    if (!a) throw std::invalid_argument("not an IP address: " + r);
    if (a->family == family) el.push_back(format_range(*a));
  }
  if (!el.empty()) {
    o << "    elements = { ";
    for (std::size_t i = 0; i < el.size(); ++i) o << el[i] << (i + 1 < el.size() ? ", " : " ");
    o << "}\n";
  }
  o << "  }\n";
}

// The guard's upstream flows in a conntrack zone of their own, set at raw priority (before
// conntrack looks the packet up): its marked queries on output, and what comes back from a
// resolver's port 53 (prerouting; output too, for a resolver on this host). Without it a client
// socket that gets the source port of a guard flow still in conntrack (UDP: 30 s after its
// answer) sends a packet of that flow: not redirected (nat sees only new flows), so dropped by
// the rule against unmarked port 53; and a guard query on the tuple of a client's redirected
// flow would be redirected to the guard. With it both are separate flows. A redirected client
// flow's replies never reach these chains untracked (they pass the loopback with their
// conntrack entry), so `ct zone set` leaves them alone.
std::string dns_zone_chains(int priority_offset) {
  const std::string zone = " ct zone set " + std::to_string(kDnsGuardCtZone) + "\n";
  const std::string from_resolver = "meta l4proto { 6, 17 } th sport 53";
  const std::string priority = std::to_string(-300 + priority_offset);
  std::string out = "  chain dns_zone_out {\n    type filter hook output priority " + priority +
                    "; policy accept;\n    meta mark " + nft_hex32(kDnsGuardMark) + zone;
  for (const char* f : {"ip saddr @dnsres4 ", "ip6 saddr @dnsres6 "})
    out += std::string("    ") + f + from_resolver + zone;
  // Only what is addressed to the seat itself: a forwarded flow's replies (a container's
  // query that went out unredirected) are not the guard's.
  out += "  }\n  chain dns_zone_in {\n    type filter hook prerouting priority " + priority +
         "; policy accept;\n";
  for (const char* f : {"ip saddr @dnsres4 ", "ip6 saddr @dnsres6 "})
    out += std::string("    fib daddr type local ") + f + from_resolver + zone;
  return out + "  }\n";
}

}  // namespace

std::string domain_set_name(int family, std::optional<std::size_t> exception, std::size_t rule) {
  std::string f = family == 4 ? "_4" : "_6";
  if (!exception) return "dom" + std::to_string(rule) + f;
  return "xdom" + std::to_string(*exception) + "_" + std::to_string(rule) + f;
}

std::string domain_uid_set_name(std::size_t exception) {
  return "xuid" + std::to_string(exception);
}

std::string domain_set_definitions(const NetRules& rules, UnixMillis now) {
  if (rules.dns_guard_port == 0) return "";
  std::ostringstream o;
  for (std::size_t i = 0; i < rules.allow_domains.size(); ++i)
    for (int family : {4, 6}) dynamic_set(o, domain_set_name(family, std::nullopt, i), family);
  for (std::size_t e = 0; e < rules.exceptions.size(); ++e) {
    const auto& x = rules.exceptions[e];
    if (x.allow_domains.empty()) continue;
    for (std::size_t i = 0; i < x.allow_domains.size(); ++i)
      for (int family : {4, 6}) dynamic_set(o, domain_set_name(family, e, i), family);
    // The uids lose access at `until` in the kernel, even with seatlockd gone. Filled while
    // closed too: no rule looks at it then (allow_out_rules), so open needs no new element.
    o << "  set " << domain_uid_set_name(e) << " {\n    type uid\n    flags timeout\n";
    std::set<std::uint32_t> uids(x.uids.begin(), x.uids.end());
    if (x.until > now && !uids.empty()) {
      o << "    elements = { ";
      std::size_t n = 0;
      for (std::uint32_t uid : uids)
        o << uid << " timeout " << nft_duration(x.until - now) << (++n < uids.size() ? ", " : " ");
      o << "}\n";
    }
    o << "  }\n";
  }
  resolver_set(o, rules, 4);
  resolver_set(o, rules, 6);
  return o.str();
}

std::string dns_guard_rules(const NetRules& rules, bool with_log) {
  if (rules.dns_guard_port == 0) return "";
  const bool enforce = rules.mode == Mode::Enforce;
  const std::string mark = nft_hex32(kDnsGuardMark);
  // Queries the nat chain redirected to the guard: their output interface is still the one
  // routed before the redirect (the hook state keeps it), so `oifname "lo"` does not see them.
  std::string out;
  for (const char* f : {"ip daddr 127.0.0.1", "ip6 daddr ::1"})
    out += "    meta l4proto { 6, 17 } th dport " + std::to_string(rules.dns_guard_port) + " " + f +
           " accept\n";
  for (const char* f : {"ip daddr @dnsres4", "ip6 daddr @dnsres6"})
    out += "    meta mark " + mark + " meta l4proto { 6, 17 } th dport 53 " + f + " accept\n";
  // Any other socket's port 53 gets here only where the nat chain did not redirect it, i.e. a
  // packet of a conntrack entry older than the redirect decision: a client socket that got the
  // same source port as one of the guard's upstream flows (same tuple, so no new flow and no
  // nat), or a flow open before the ruleset. Without this rule a CIDR allow covering a resolver
  // would let it through to the resolver, refused names included. Redirected queries already
  // carry the guard's port. Then DNS over TLS (853). Audit: both logged and accepted.
  const std::string direct = "    meta mark != " + mark + " meta l4proto { 6, 17 } th dport 53 ";
  const std::string dot = "    meta l4proto { 6, 17 } th dport 853 ";
  for (const std::string& m : {direct, dot}) {
    if (with_log)
      out += m + "limit rate " + std::to_string(rules.log_rate) + "/second log group " +
             std::to_string(rules.log_group) + " prefix \"" + (enforce ? "sl-deny" : "sl-audit") +
             " \"\n";
    out += m + (enforce ? "counter name denied drop\n" : "counter name audited accept\n");
  }
  return out;
}

std::string dns_guard_forward_rules(const NetRules& rules, bool with_log) {
  if (rules.dns_guard_port == 0) return "";
  const bool enforce = rules.mode == Mode::Enforce;
  // Forwarded DNS (containers, VMs behind the seat) is not redirected: the nat chain hooks
  // output only. Without this rule a CIDR allow covering a resolver (the packaged default
  // allows the private ranges) let it through unchecked: any name resolved, refused names and
  // tunnelling-shaped queries reached the resolver. Denied like DNS over TLS (audit: logged and
  // accepted); docs/dns.md "Containers".
  const std::string m = "    meta l4proto { 6, 17 } th dport { 53, 853 } ";
  std::string out;
  if (with_log)
    out += m + "limit rate " + std::to_string(rules.log_rate) + "/second log group " +
           std::to_string(rules.log_group) + " prefix \"" +
           (enforce ? kPrefixForward : kPrefixForwardAudit) + " \"\n";
  return out + m +
         (enforce ? "counter name forward_denied drop\n" : "counter name audited accept\n");
}

std::string domain_allow_rules(const NetRules& rules, bool with_exceptions) {
  if (rules.dns_guard_port == 0) return "";
  std::string out;
  std::ostringstream flow;
  flow << "0x" << std::hex << kDomainFlowCtMark;
  // A connection opened through a network.allow domain entry carries the ct mark bit and
  // outlives its address's element (the element only gates NEW connections). Not while closed:
  // the mark does not say which entry opened the flow, and non-essential ones must stop.
  if (!rules.allow_domains.empty() && !rules.closed)
    out += "    ct state established ct mark and " + flow.str() + " == " + flow.str() + " accept\n";
  auto rule = [&](const std::string& who, const DomainRule& r, std::optional<std::size_t> e,
                  std::size_t i) {
    // Exceptions' flows are not marked: they end with the exception, like its CIDR rules.
    const std::string verdict =
        e ? " accept\n" : " ct mark set ct mark or " + flow.str() + " accept\n";
    out += "    " + who + proto_ports(r) + "ip daddr @" + domain_set_name(4, e, i) + verdict;
    out += "    " + who + proto_ports(r) + "ip6 daddr @" + domain_set_name(6, e, i) + verdict;
  };
  for (std::size_t i = 0; i < rules.allow_domains.size(); ++i)
    if (!rules.closed || rules.allow_domains[i].essential)
      rule("", rules.allow_domains[i], std::nullopt, i);
  if (!with_exceptions || rules.closed) return out;
  for (std::size_t e = 0; e < rules.exceptions.size(); ++e)
    for (std::size_t i = 0; i < rules.exceptions[e].allow_domains.size(); ++i)
      rule("meta skuid @" + domain_uid_set_name(e) + " ", rules.exceptions[e].allow_domains[i], e,
           i);
  return out;
}

std::string dns_redirect_chain(const NetRules& rules, bool owned_table, int priority_offset) {
  if (rules.dns_guard_port == 0) return "";
  if (!owned_table && rules.mode != Mode::Enforce) return "";
  const std::string port = std::to_string(rules.dns_guard_port);
  const std::string unmarked = "    meta mark != " + nft_hex32(kDnsGuardMark) + " ";
  std::string out = "  chain dns_redirect {\n    type nat hook output priority " +
                    std::to_string(-100 + priority_offset) + "; policy accept;\n" + unmarked +
                    "udp dport 53 redirect to :" + port + "\n" + unmarked +
                    "tcp dport 53 redirect to :" + port + "\n  }\n";
  if (owned_table) out += dns_zone_chains(priority_offset);
  return out;
}

}  // namespace seatlock::net
