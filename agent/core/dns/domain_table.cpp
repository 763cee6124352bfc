#include "core/dns/domain_table.hpp"

#include <cctype>

#include "core/net/domain_rules.hpp"

namespace seatlock::dns {

std::string normalize_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_doh_canary(std::string_view name) {
  return normalize_name(name) == kDohCanary;
}

bool pattern_matches(std::string_view pattern, std::string_view name) {
  if (pattern.size() < 2 || pattern.substr(0, 2) != "*.") return pattern == name;
  std::string_view suffix = pattern.substr(1);  // ".example.com"
  return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

DomainTable::DomainTable(const net::NetRules& rules, UnixMillis now) {
  auto add = [&](const DomainRule& r, std::optional<std::size_t> e, std::size_t i) {
    for (const auto& n : r.names)
      entries_.push_back({n, net::domain_set_name(4, e, i), net::domain_set_name(6, e, i), e});
  };
  for (std::size_t i = 0; i < rules.allow_domains.size(); ++i)
    add(rules.allow_domains[i], std::nullopt, i);
  if (rules.closed) return;
  for (std::size_t e = 0; e < rules.exceptions.size(); ++e) {
    if (rules.exceptions[e].until <= now) continue;
    for (std::size_t i = 0; i < rules.exceptions[e].allow_domains.size(); ++i)
      add(rules.exceptions[e].allow_domains[i], e, i);
  }
}

std::vector<DomainTarget> DomainTable::match(std::string_view name) const {
  const std::string n = normalize_name(name);
  std::vector<DomainTarget> out;
  for (const auto& e : entries_) {
    if (!pattern_matches(e.pattern, n)) continue;
    // One target per set: an entry listing both "a.x.com" and "*.x.com" is one entry.
    bool seen = false;
    for (const auto& o : out) seen = seen || o.set4 == e.set4;
    if (!seen) out.push_back(e);
  }
  return out;
}

}  // namespace seatlock::dns
