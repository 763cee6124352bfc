#include "core/net/set_update.hpp"

#include <map>
#include <set>

#include "core/net/nft_duration.hpp"

namespace seatlock::net {

namespace {

std::string with_timeout(const SetElement& e, UnixMillis now) {
  return e.until ? e.key + " timeout " + nft_duration(e.until - now) : e.key;
}

// Both tables' chains as they would be written for these rules (no elements in them).
std::string chains_of(const NetRules& given, const CompiledRuleset& compiled) {
  NetRules rules = given;
  rules.closed = compiled.closed;
  return filter_chains(rules, true, 0) + filter_chains(rules, false, 10);
}

void element_command(std::string& out, const char* verb, const std::string& set,
                     const std::vector<std::string>& elements) {
  if (elements.empty()) return;
  for (const char* table : {kOwnedTable, kFallbackTable}) {
    out += std::string(verb) + " element inet " + table + " " + set + " { ";
    for (std::size_t i = 0; i < elements.size(); ++i)
      out += elements[i] + (i + 1 < elements.size() ? ", " : " ");
    out += "}\n";
  }
}

}  // namespace

std::optional<std::string> set_update_transaction(const NetRules& before_rules,
                                                  const CompiledRuleset& before,
                                                  const NetRules& after_rules,
                                                  const CompiledRuleset& after, UnixMillis now) {
  if (before.skeleton != after.skeleton) return std::nullopt;
  if (chains_of(before_rules, before) != chains_of(after_rules, after)) return std::nullopt;
  // Set name -> elements to delete / to add. Pieces are compared first (a recompile reuses
  // unchanged ones, so this is cheap); elements only within pieces that changed.
  std::map<std::string, std::vector<std::string>> gone, added;
  static const std::vector<SetElement> kNone;
  auto elements_of = [](const CompiledRuleset& c, const SetPieceKey& key) -> const auto& {
    auto it = c.pieces.find(key);
    return it == c.pieces.end() ? kNone : it->second.elements;
  };
  std::set<SetPieceKey> keys;
  for (const auto& [key, piece] : before.pieces) keys.insert(key);
  for (const auto& [key, piece] : after.pieces) keys.insert(key);
  for (const SetPieceKey& key : keys) {
    const auto& old_elements = elements_of(before, key);
    const auto& new_elements = elements_of(after, key);
    if (old_elements == new_elements) continue;
    const std::string& set = (after.pieces.count(key) ? after.pieces : before.pieces).at(key).set;
    std::set<std::pair<std::string, UnixMillis>> old_ids, new_ids;
    for (const auto& e : old_elements) old_ids.insert({e.key, e.until});
    for (const auto& e : new_elements) new_ids.insert({e.key, e.until});
    for (const auto& e : old_elements)
      if (!new_ids.count({e.key, e.until}) && (e.until == 0 || e.until > now))
        gone[set].push_back(e.key);
    for (const auto& e : new_elements)
      if (!old_ids.count({e.key, e.until})) added[set].push_back(with_timeout(e, now));
  }
  std::size_t changes = 0;
  for (const auto* m : {&gone, &added})
    for (const auto& [set, elements] : *m) changes += elements.size();
  if (changes > kMaxInPlaceChanges) return std::nullopt;
  std::string deletes, adds;
  for (const auto& [set, elements] : gone) element_command(deletes, "delete", set, elements);
  for (const auto& [set, elements] : added) element_command(adds, "add", set, elements);
  return deletes + adds;
}

}  // namespace seatlock::net
