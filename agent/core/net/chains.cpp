// The three filter chains of each table (output, input, forward) and the transactions that put
// both tables in force. Rule order and rationale: docs/network.md.
#include <sstream>

#include "core/net/address_space.hpp"
#include "core/net/domain_rules.hpp"
#include "core/net/generation.hpp"
#include "core/net/ruleset.hpp"

namespace seatlock::net {

namespace {

const char* const kIcmpErrors =
    "    icmp type { destination-unreachable, time-exceeded, parameter-problem } accept\n"
    "    icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem "
    "} accept\n";

bool has_planned(const NetRules& rules, int family) {
  for (const auto& p : rules.addresses) {
    auto a = parse_address(p.address.address);
    if (!a) throw std::invalid_argument("not an IP address: " + p.address.address);
    if (a->family == family) return true;
  }
  return false;
}

// "type filter hook H priority filter [+ N]; policy drop|accept;"
std::string chain_head(const char* name, const NetRules& rules, int priority_offset) {
  return std::string("  chain ") + name + " {\n    type filter hook " + name + " priority filter" +
         (priority_offset ? " + " + std::to_string(priority_offset) : std::string()) + "; policy " +
         (rules.mode == Mode::Enforce ? "drop" : "accept") + ";\n";
}

// The closing pair: a rate-limited NFLOG rule (owned table only, so a packet is logged once)
// and the verdict. Audit mode never drops: it counts and accepts.
std::string deny_tail(const NetRules& rules, bool with_log, const char* enforce_prefix,
                      const char* audit_prefix, const char* counter) {
  const bool enforce = rules.mode == Mode::Enforce;
  std::string out;
  if (with_log)
    out += "    limit rate " + std::to_string(rules.log_rate) + "/second log group " +
           std::to_string(rules.log_group) + " prefix \"" +
           (enforce ? enforce_prefix : audit_prefix) + " \"\n";
  out += enforce ? "    " + generation_clear() + "counter name " + counter + " drop\n"
                 : "    counter name audited accept\n";
  return out;
}

// The seat-wide egress allowlist (destination . protocol . port, or destination alone): all of
// it (base*, any*) while open, its essential entries (ess*, essany*) while closed. Accepting a
// new connection stamps the generation into its ct mark (generation.hpp).
std::string seat_wide_allow(bool closed) {
  const std::string port_set = closed ? "ess" : "base", addr_set = closed ? "essany" : "any";
  std::string out;
  for (int family : {4, 6}) {
    const std::string daddr = family == 4 ? "ip daddr " : "ip6 daddr ";
    const std::string f = std::to_string(family);
    out += "    " + daddr + ". meta l4proto . th dport @" + port_set + f + " " + kAcceptAndStamp +
           "\n";
  }
  for (int family : {4, 6})
    out += std::string("    ") + (family == 4 ? "ip daddr @" : "ip6 daddr @") + addr_set +
           std::to_string(family) + " " + kAcceptAndStamp + "\n";
  return out;
}

}  // namespace

std::string output_chain(const NetRules& rules, bool with_log, int priority_offset) {
  std::ostringstream o;
  const bool enforce = rules.mode == Mode::Enforce;
  o << chain_head("output", rules, priority_offset)
    // Loopback by its index (always 1, and lo is never re-created): a name compare copies and
    // compares 16 bytes on every packet of the table: 43 ns against 14 (docs/network.md).
    << "    meta oif \"lo\" accept\n"
    // A connection accepted under the current generation: decided already.
    << generation_fast_path()
    // Replies of connections the remote side opened pass only where the input chain admits
    // that peer and local port (the same sets): a listener cannot answer anyone else, even on
    // a connection conntrack knew before these rules. Connections the seat opened are
    // re-checked below whenever the generation changed, so close/expiry also cut them.
    << "    ct direction reply ip daddr . meta l4proto . th sport @in4 accept\n"
    << "    ct direction reply ip6 daddr . meta l4proto . th sport @in6 accept\n"
    << "    ct direction reply ip daddr @inany4 accept\n"
    << "    ct direction reply ip6 daddr @inany6 accept\n"
    << "    ct state related meta l4proto { 1, 58 } accept\n"  // icmp, ipv6-icmp
    // DHCP reaches only the broadcast address and the lease servers, not any host's port 67.
    << "    udp sport 68 udp dport 67 ip daddr @dhcp4 accept\n"
    << "    udp sport 546 udp dport 547 ip6 daddr @dhcp6 accept\n"
    << "    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, "
       "mld-listener-report, mld2-listener-report } accept\n"
    << kIcmpErrors;
  const std::string limit = "limit rate " + std::to_string(rules.log_rate) + "/second log group " +
                            std::to_string(rules.log_group) + " prefix \"" + kPrefixSource +
                            " \"\n";
  const std::string source_verdict =
      enforce ? "counter name source_denied drop" : "counter name audited";
  // The management path first, before even the planned-source check: no policy (a fleet
  // mistake included) can cut the seat off from its collector and resolvers.
  o << "    ip daddr . meta l4proto . th dport @" << management_set_name(4) << " accept\n"
    << "    ip6 daddr . meta l4proto . th dport @" << management_set_name(6) << " accept\n";
  if (has_planned(rules, 4)) {
    const std::string m = "    meta nfproto ipv4 oifname . ip saddr != @planned4 ";
    if (with_log) o << m << limit;
    o << m << source_verdict << "\n";
  }
  if (has_planned(rules, 6)) {
    const std::string m =
        "    meta nfproto ipv6 ip6 saddr != fe80::/10 oifname . ip6 saddr != @planned6 ";
    if (with_log) o << m << limit;
    o << m << source_verdict << "\n";
  }
  o << dns_guard_rules(rules, with_log) << "    jump allow_out\n"
    << deny_tail(rules, with_log, kPrefixDenied, kPrefixAudit, "denied") << "  }\n";
  return o.str();
}

std::string input_chain(const NetRules& rules, bool with_log, int priority_offset) {
  std::ostringstream o;
  o << chain_head("input", rules, priority_offset) << "    meta iif \"lo\" accept\n"
    << generation_fast_path()
    // Replies of connections the seat opened: the output chain checks those connections.
    << "    ct direction reply accept\n"
    << "    ct state related meta l4proto { 1, 58 } accept\n"
    << "    udp sport 67 udp dport 68 accept\n"    // DHCPv4 offers/acks (often broadcast)
    << "    udp sport 547 udp dport 546 accept\n"  // DHCPv6 replies
    << "    icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, "
       "mld-listener-query } accept\n"
    << kIcmpErrors
    // New and ongoing connections from outside: only what network.inbound admits, checked
    // again at their first packet after every change that takes something away (like
    // egress), so removing an entry also cuts its open connections.
    << "    ip saddr . meta l4proto . th dport @in4 " << kAcceptAndStamp << "\n"
    << "    ip6 saddr . meta l4proto . th dport @in6 " << kAcceptAndStamp << "\n"
    << "    ip saddr @inany4 " << kAcceptAndStamp << "\n"
    << "    ip6 saddr @inany6 " << kAcceptAndStamp
    << "\n"
    // LAN chatter (mDNS, SSDP, NetBIOS, ...) is not aimed at this seat: counted, never logged,
    // so it cannot crowd real attempts out of the rate-limited log.
    << "    meta pkttype { broadcast, multicast } "
    << (rules.mode == Mode::Enforce ? "counter name inbound_denied drop\n"
                                    : "counter name audited accept\n")
    << deny_tail(rules, with_log, kPrefixInbound, kPrefixInboundAudit, "inbound_denied") << "  }\n";
  return o.str();
}

std::string forward_chain(const NetRules& rules, bool with_log, int priority_offset) {
  std::ostringstream o;
  // Forwarded packets (containers, VMs, bridges with br_netfilter) have no local socket, so
  // `meta skuid` is empty: only the seat-wide allowlist applies, never a user's exception.
  o << chain_head("forward", rules, priority_offset)
    << generation_fast_path()
    // Replies of forwarded flows whose original direction passed the checks below (again after
    // every change that takes something away).
    << "    ct direction reply accept\n"
    << "    ct state related meta l4proto { 1, 58 } accept\n"
    << "    udp sport 68 udp dport 67 ip daddr @dhcp4 accept\n"
    << "    udp sport 67 udp dport 68 accept\n"
    << "    udp sport 546 udp dport 547 ip6 daddr @dhcp6 accept\n"
    << "    udp sport 547 udp dport 546 accept\n"
    << "    icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
       "nd-neighbor-advert, mld-listener-query, mld-listener-report, mld2-listener-report } "
       "accept\n"
    << kIcmpErrors << dns_guard_forward_rules(rules, with_log) << "    jump allow_fwd\n"
    << deny_tail(rules, with_log, kPrefixForward, kPrefixForwardAudit, "forward_denied") << "  }\n";
  return o.str();
}

std::string allow_out_rules(const NetRules& rules) {
  std::string out = seat_wide_allow(rules.closed);
  if (!rules.closed)
    // A user's exception accepts without stamping: its flows are checked on every packet and
    // stop the moment the kernel drops the element. Its timeout counts from the compile, so it
    // can outlive `until` by as long as the transaction took; a flow stamped meanwhile with the
    // generation the expiry put in force passed for good (ASan CI run, session 13).
    out +=
        "    meta skuid . ip daddr . meta l4proto . th dport @exc4 accept\n"
        "    meta skuid . ip6 daddr . meta l4proto . th dport @exc6 accept\n"
        "    meta skuid . ip daddr @excany4 accept\n"
        "    meta skuid . ip6 daddr @excany6 accept\n";
  return out + domain_allow_rules(rules, true);
}

std::string allow_forward_rules(const NetRules& rules) {
  return seat_wide_allow(rules.closed) + domain_allow_rules(rules, false);
}

std::string filter_chains(const NetRules& rules, bool with_log, int priority_offset) {
  return output_chain(rules, with_log, priority_offset) +
         input_chain(rules, with_log, priority_offset) +
         forward_chain(rules, with_log, priority_offset) +
         dns_redirect_chain(rules, with_log, priority_offset);  // with_log: the owned table
}

std::string table_definition(const std::string& table, bool owner, const CompiledRuleset& compiled,
                             const std::string& chain) {
  // The allow chains before the base chains that jump to them, after `accepted` they go to.
  return "table inet " + table + " {\n" + (owner ? "  flags owner;\n" : "") + compiled.sets +
         generation_definitions(compiled, owner) + "  chain allow_out {\n" + compiled.allow_out +
         "  }\n  chain allow_fwd {\n" + compiled.allow_fwd + "  }\n" + chain + "}\n";
}

// The chains were written by compile_ruleset() for the state the sets were compiled for (closed
// by the switch or the policy), so no copy of the rules is needed here.
std::string fallback_transaction(const NetRules& /*rules*/, const CompiledRuleset& compiled) {
  return replace_table(kFallbackTable, false,
                       table_definition(kFallbackTable, false, compiled, compiled.fallback_chains));
}

std::string full_transaction(const NetRules& rules, const CompiledRuleset& compiled) {
  return replace_table(kOwnedTable, true,
                       table_definition(kOwnedTable, true, compiled, compiled.owned_chains)) +
         fallback_transaction(rules, compiled);
}

std::string replace_table(const std::string& table, bool owner, const std::string& definition) {
  return "add table inet " + table + (owner ? " { flags owner; }" : "") + "\ndelete table inet " +
         table + "\n" + definition;
}

}  // namespace seatlock::net
