#include "core/dns/domain_table.hpp"

#include <algorithm>
#include <cctype>

#include "core/net/domain_rules.hpp"
#include "core/net/ruleset.hpp"

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
  if (!rules.collector_host.empty())
    entries_.push_back({normalize_name(rules.collector_host), net::management_set_name(4),
                        net::management_set_name(6), std::nullopt,
                        " . 6 . " + std::to_string(rules.collector_port)});
  // While closed (net close, or a fleet closure in force) only essential entries admit names,
  // as only their rules stay in the ruleset.
  const bool closed = net::closed_at(rules, now);
  for (std::size_t i = 0; i < rules.allow_domains.size(); ++i)
    if (!closed || rules.allow_domains[i].essential) add(rules.allow_domains[i], std::nullopt, i);
  if (closed) return;
  for (std::size_t e = 0; e < rules.exceptions.size(); ++e) {
    if (rules.exceptions[e].until <= now) continue;
    for (std::size_t i = 0; i < rules.exceptions[e].allow_domains.size(); ++i)
      add(rules.exceptions[e].allow_domains[i], e, i);
  }
}

std::vector<std::string> DomainTable::exact_names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (e.pattern.rfind("*.", 0) != 0 && std::find(out.begin(), out.end(), e.pattern) == out.end())
      out.push_back(e.pattern);
  return out;
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
