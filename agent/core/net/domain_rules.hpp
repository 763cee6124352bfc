#pragma once
// The nftables side of domain allow entries and the DNS guard (docs/dns.md): one dynamic set per
// domain entry and family, filled by the guard from DNS answers (elements with timeouts), the
// rules that accept traffic to those sets with the entry's ports and protocol, DNS redirected
// to the guard, the resolvers reachable on 53 only from the guard's marked sockets, and DNS over
// TLS (853) denied. Nothing here while no guard runs (dns_guard_port == 0).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/net/net_rules.hpp"

namespace seatlock::net {

// Conntrack mark bit of connections opened through a network.allow domain entry: they go on
// after the address's element expired (docs/dns.md "Expiry"). Only this bit is set or read,
// other users of the ct mark keep theirs.
inline constexpr std::uint32_t kDomainFlowCtMark = 0x20000000;

// Conntrack zone of the guard's own upstream flows (docs/dns.md "Conntrack zone"): a client
// socket that gets the source port of one of them is then a new flow of zone 0, redirected to
// the guard like any other, instead of a packet of the guard's flow.
inline constexpr std::uint16_t kDnsGuardCtZone = 0x534c;

// "dom<rule>_<4|6>" for network.allow, "xdom<exception>_<rule>_<4|6>" for an exception's.
std::string domain_set_name(int family, std::optional<std::size_t> exception, std::size_t rule);
// "xuid<exception>": the exception's uids, each with a kernel timeout at its `until`.
std::string domain_uid_set_name(std::size_t exception);

// Set definitions (both tables): the domain sets (empty; `flags timeout`), the exceptions' uid
// sets and the resolver sets dnsres4/dnsres6.
std::string domain_set_definitions(const NetRules& rules, UnixMillis now);

// Output chain, before the allowlists: the guard's marked sockets to the resolvers on 53, every
// other socket's 53 that escaped the redirect (a reused conntrack tuple) denied, then 853 denied
// (logged as denied packets; audit: logged and accepted).
std::string dns_guard_rules(const NetRules& rules, bool with_log);
// Forward chain, before the allowlists: forwarded DNS (53) and DNS over TLS (853) denied
// (logged; audit: logged and accepted), since only the seat's own sockets are redirected to the
// guard.
std::string dns_guard_forward_rules(const NetRules& rules, bool with_log);
// Accept rules for the domain sets. Output: network.allow's entries (only the essential ones
// while closed) and (unless closed) the exceptions', gated by their uid set; forward:
// network.allow's only. `rules.closed` here is the effective state (full_transaction()).
std::string domain_allow_rules(const NetRules& rules, bool with_exceptions);
// The nat chain sending udp/tcp 53 of every unmarked socket to the guard's port. The owned
// table always has it; the fallback table only in enforce mode, so that while seatlockd (and
// with it the guard) is down names do not resolve (fail closed), while audit never breaks DNS.
// The owned table (where the guard runs) also gets the raw-priority chain `dns_zone` putting
// the guard's upstream flows, both ways, into conntrack zone kDnsGuardCtZone.
std::string dns_redirect_chain(const NetRules& rules, bool owned_table, int priority_offset);

}  // namespace seatlock::net
