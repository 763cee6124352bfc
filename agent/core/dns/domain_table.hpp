#pragma once
// Which domain allow entries admit a DNS question name, and into which nftables sets the
// addresses of its answer go (docs/dns.md). Pure: built from NetRules at a given time.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/net_rules.hpp"

namespace seatlock::dns {

// The DoH canary: browsers that find NXDOMAIN for it keep DNS over HTTPS off by default.
inline constexpr const char* kDohCanary = "use-application-dns.net";

// Lower case, one trailing dot removed ("CRM.Example.com." -> "crm.example.com").
std::string normalize_name(std::string_view name);
bool is_doh_canary(std::string_view name);

// One domain entry that admits a name: the pattern that matched and the entry's sets.
struct DomainTarget {
  std::string pattern;  // "crm.example.com" or "*.example.com"
  std::string set4;
  std::string set6;
  std::optional<std::size_t> exception;  // index in NetRules::exceptions, or network.allow
  // Appended to the address in the set element: " . 6 . 8443" for the management sets
  // (addr . proto . port), "" for the domain sets (addr).
  std::string element_suffix = {};
};

// "*.example.com" matches names strictly below example.com (a.example.com, a.b.example.com),
// not example.com itself, as a DNS wildcard does; list both to allow both.
bool pattern_matches(std::string_view pattern, std::string_view normalized_name);

class DomainTable {
 public:
  // Exceptions count while they are in force: not expired at `now` and not suspended by
  // `net close`; while the internet is closed (net::closed_at) only essential entries count. The
  // collector's host name (rules.collector_host) is always admitted, whatever the allowlist says
  // and closed or not: its answers go into the management sets mgmt4/mgmt6 with the collector's
  // port (docs/dns.md "The collector by name").
  DomainTable(const net::NetRules& rules, UnixMillis now);
  // Every entry that admits `name` (any case, trailing dot or not); empty = refuse.
  std::vector<DomainTarget> match(std::string_view name) const;
  std::size_t size() const { return entries_.size(); }
  // The names listed as such (not wildcards), once each, in policy order: what the guard
  // resolves at start so the first use is fast.
  std::vector<std::string> exact_names() const;

 private:
  std::vector<DomainTarget> entries_;  // one per (entry, pattern)
};

}  // namespace seatlock::dns
