#pragma once
// NetRules: the network section with everything the OS had to tell already resolved (user and
// group names -> uids, the collector's address) plus the run-time switches (mode override,
// `net close`). It is what the ruleset compiler consumes, and it is stored as JSON in the
// fallback file so `seatlockctl net load-fallback` can recompile it at boot without NSS.
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/policy/policy.hpp"

namespace seatlock::net {

// NFLOG group of seatlock's log rules (any other NFLOG user on the seat uses another one).
inline constexpr std::uint16_t kLogGroup = 4711;

// The DNS guard (core/dns, os/dns; docs/dns.md): DNS of the seat (udp/tcp 53) is redirected
// to this local port, and only sockets carrying kDnsGuardMark (SO_MARK, set by the guard on its
// upstream sockets) reach the resolvers of network.dns.
inline constexpr std::uint16_t kDnsGuardPort = 5399;
inline constexpr std::uint32_t kDnsGuardMark = 0x534c0053;  // "SL\0S"

// A mark or mask as nft writes it: "0x534c0053".
inline std::string nft_hex32(std::uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

struct Endpoint {
  std::string address;  // IP literal
  std::uint16_t port = 443;
  std::string proto = "tcp";
};

struct ResolvedException {
  std::string ticket;
  std::vector<std::string> users;   // as written (for status and events)
  std::vector<std::string> groups;  // as written
  std::vector<std::uint32_t> uids;  // users + every member of the groups (primary or not)
  std::vector<EgressRule> allow;
  UnixMillis until = 0;
  std::string source;
  std::vector<DomainRule> allow_domains = {};  // names: reachable through the guard's sets
};

struct NetRules {
  Mode mode = Mode::Enforce;
  // `seatlockctl net close` (the seat-local switch). The internet is closed while this is set or
  // `closure` is in force (closed_at()): exceptions and non-essential allow entries suspended,
  // essential allow entries and the management path kept.
  bool closed = false;
  std::optional<NetClosure> closure;  // network.closed of the policy (a fleet closure)
  std::vector<EgressRule> allow;
  std::vector<InboundRule> inbound;  // new connections the input chain accepts
  std::vector<std::string> dns;
  std::vector<std::string> ntp;
  // The management path (always allowed, closed or not, whatever the allowlist says): the
  // collector's addresses and the resolvers of `dns` on 53, in the sets mgmt4/mgmt6. When the
  // collector URL names a host, `collector_host` is that name and `collector_port` its port:
  // whoever resolves it (the DNS guard) adds the answers to mgmt4/mgmt6 as
  // "ADDR . 6 . PORT timeout Ns" (management_set_name()).
  std::vector<Endpoint> collector;
  std::string collector_host;  // "" when the URL has an IP literal or there is no collector
  std::uint16_t collector_port = 0;
  std::vector<ResolvedException> exceptions;
  std::vector<PlannedAddress> addresses;
  // DHCPv4 servers of the seat's current leases (IP literals, read by the OS layer): the only
  // unicast destinations of udp 68->67 besides the broadcast address.
  std::vector<std::string> dhcp_servers;
  std::uint32_t log_rate = 50;
  std::uint16_t log_group = kLogGroup;
  // Domain allow entries (sets filled by the DNS guard) and the guard's port (kDnsGuardPort),
  // set by whoever runs the guard; 0 = no guard: no domain sets, no redirect, the resolvers
  // reachable on 53 by every process as before (domain entries then admit nothing).
  std::vector<DomainRule> allow_domains = {};
  std::uint16_t dns_guard_port = 0;
};

// Is the internet closed at `now`: the local switch, or a policy closure whose `until` is ahead.
bool closed_at(const NetRules& rules, UnixMillis now);
// The closure in force at `now` (nullopt: none, or its `until` passed).
std::optional<NetClosure> closure_in_force(const NetRules& rules, UnixMillis now);

// The collector URL's host and port ("https://10.1.0.5:8443" -> {"10.1.0.5", 8443});
// nullopt when `url` is empty or malformed. The host may still be a name (the OS resolves it).
struct CollectorTarget {
  std::string host;
  std::uint16_t port = 443;
};
std::optional<CollectorTarget> parse_collector_url(const std::string& url);

// Builds NetRules from the policy. uids[i] are the resolved uids of network.exceptions[i];
// collector holds the collector's resolved addresses (empty when none is configured).
// dhcp_servers: the lease servers the OS layer found (see os/net/dhcp_leases).
NetRules make_net_rules(const Policy& policy, const std::vector<std::vector<std::uint32_t>>& uids,
                        const std::vector<std::string>& collector_addresses,
                        std::optional<Mode> mode_override, bool closed,
                        const std::vector<std::string>& dhcp_servers = {});

nlohmann::json to_json(const NetRules& rules);
// The same as to_json(rules).dump() up to the order of keys, written without building the JSON
// tree for network.allow and network.inbound (the fallback file is rewritten on every change).
std::string to_json_text(const NetRules& rules);
// Throws std::runtime_error naming the bad field.
NetRules net_rules_from_json(const nlohmann::json& j);

// Parses "CIDR", "CIDR:port", "CIDR:first-last", "[v6CIDR]:port" (seatlockctl net allow --to).
std::optional<EgressRule> parse_destination(const std::string& text);

}  // namespace seatlock::net
