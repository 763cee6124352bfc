#include "core/net/set_update.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "core/net/generation.hpp"
#include "core/net/nft_duration.hpp"

namespace seatlock::net {

namespace {

// Marks the merged boxes of `a` that `b` does not have (and the other way round), comparing
// numbers, not element text; both lists keep their own order for the commands.
void mark_differences(const std::vector<Box>& a, const std::vector<Box>& b,
                      std::vector<bool>& only_a, std::vector<bool>& only_b) {
  only_a.assign(a.size(), true);
  only_b.assign(b.size(), true);
  const auto oa = box_order(a), ob = box_order(b);
  for (std::size_t i = 0, j = 0; i < oa.size() && j < ob.size();) {
    if (box_less(a[oa[i]], b[ob[j]])) {
      ++i;
    } else if (box_less(b[ob[j]], a[oa[i]])) {
      ++j;
    } else {
      only_a[oa[i++]] = false;
      only_b[ob[j++]] = false;
    }
  }
}

// nft 1.0.6 cannot delete a single-value element of a uid-keyed concatenated interval set
// ("1002 . 10.0.0.7 . 6 . 443": No such file or directory, so every revoked exception and
// every close replaced the tables); the explicit range form "1002 . 10.0.0.7-10.0.0.7 . 6 .
// 443-443" deletes it. Fields: uid . address [. protocol . port].
std::string exception_delete_key(const std::string& key) {
  std::string out;
  std::size_t at = 0;
  for (int field = 0; at <= key.size(); ++field) {
    std::size_t end = key.find(" . ", at);
    if (end == std::string::npos) end = key.size();
    std::string part = key.substr(at, end - at);
    if ((field == 1 || field == 3) && part.find('-') == std::string::npos) part += "-" + part;
    out += (field ? " . " : "") + part;
    at = end + 3;
  }
  return out;
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

// The rule lines of an allow chain ("    rule\n" each), without their indent.
std::vector<std::string> rule_lines(const std::string& chain) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < chain.size();) {
    std::size_t end = chain.find('\n', at);
    if (end == std::string::npos) end = chain.size();
    std::size_t first = chain.find_first_not_of(' ', at);
    if (first < end) out.push_back(chain.substr(first, end - first));
    at = end + 1;
  }
  return out;
}

// The rule that accepts at least what `rule` does: the same rule on the seat-wide sets for one on
// the essential sets (compile_ruleset() puts every essential element in both), else itself.
std::string covering_rule(std::string rule) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"@essany", "@any"},
                                 std::pair<std::string, std::string>{"@ess", "@base"}})
    if (auto at = rule.find(from); at != std::string::npos)
      return rule.replace(at, from.size(), to);
  return rule;
}

// Rewrites chain `name` in both tables when its rules changed; true when something is taken
// away: a rule went and nothing accepts as much (close; not open, whose seat-wide rules cover
// the essential ones). A connection it accepted may no longer be allowed: a new generation
// re-checks it.
bool rewrite_allow_chain(std::string& out, const char* name, const std::string& before,
                         const std::string& after) {
  if (before == after) return false;
  const auto old_rules = rule_lines(before), new_rules = rule_lines(after);
  for (const char* table : {kOwnedTable, kFallbackTable}) {
    const std::string chain = std::string(" inet ") + table + " " + name;
    out += "flush chain" + chain + "\n";
    for (const auto& rule : new_rules) out += "add rule" + chain + " " + rule + "\n";
  }
  const std::set<std::string> kept(new_rules.begin(), new_rules.end());
  return std::any_of(old_rules.begin(), old_rules.end(), [&](const std::string& r) {
    return kept.count(r) == 0 && kept.count(covering_rule(r)) == 0;
  });
}

}  // namespace

std::optional<std::string> set_update_transaction(const CompiledRuleset& before,
                                                  CompiledRuleset& after, UnixMillis now) {
  if (before.skeleton != after.skeleton || before.owned_chains != after.owned_chains ||
      before.fallback_chains != after.fallback_chains)
    return std::nullopt;
  // Set name -> elements to delete / to add, only within pieces that are not shared (a
  // recompile shares every piece whose input did not change).
  std::map<std::string, std::vector<std::string>> gone, added;
  std::set<SetPieceKey> keys;
  for (const auto& [key, piece] : before.pieces) keys.insert(key);
  for (const auto& [key, piece] : after.pieces) keys.insert(key);
  static const SetPiece kNone;
  std::size_t changes = 0;
  std::vector<bool> only_old, only_new;
  for (const SetPieceKey& key : keys) {
    auto find = [&](const CompiledRuleset& c) -> const SetPiece* {
      auto it = c.pieces.find(key);
      return it == c.pieces.end() ? nullptr : it->second.get();
    };
    const SetPiece* old_piece = find(before);
    const SetPiece* new_piece = find(after);
    if (old_piece == new_piece) continue;
    const std::string& set = (new_piece ? new_piece : old_piece)->set;
    if (!old_piece) old_piece = &kNone;
    if (!new_piece) new_piece = &kNone;
    mark_differences(old_piece->merged, new_piece->merged, only_old, only_new);
    for (std::size_t i = 0; i < only_old.size(); ++i) {
      const Box& b = old_piece->merged[i];
      // An exception element past its `until` is gone already (the kernel's timeout).
      if (only_old[i] && (!old_piece->expires || b.value > now)) {
        gone[set].push_back(key.uid >= 0 ? exception_delete_key(old_piece->keys[i])
                                         : old_piece->keys[i]);
        ++changes;
      }
    }
    for (std::size_t i = 0; i < only_new.size(); ++i) {
      if (!only_new[i]) continue;
      const Box& b = new_piece->merged[i];
      added[set].push_back(new_piece->expires
                               ? new_piece->keys[i] + " timeout " + nft_duration(b.value - now)
                               : new_piece->keys[i]);
      ++changes;
    }
    if (changes > kMaxInPlaceChanges) return std::nullopt;
  }
  // The lease servers (sorted lists of single addresses).
  std::set_difference(before.dhcp4.begin(), before.dhcp4.end(), after.dhcp4.begin(),
                      after.dhcp4.end(), std::back_inserter(gone["dhcp4"]));
  std::set_difference(after.dhcp4.begin(), after.dhcp4.end(), before.dhcp4.begin(),
                      before.dhcp4.end(), std::back_inserter(added["dhcp4"]));
  if (gone["dhcp4"].empty()) gone.erase("dhcp4");
  std::string deletes, adds;
  for (const auto& [set, elements] : gone) element_command(deletes, "delete", set, elements);
  for (const auto& [set, elements] : added) element_command(adds, "add", set, elements);
  // Close and open: only the allow chains' rules differ (which sets they look in).
  bool rule_gone = rewrite_allow_chain(adds, "allow_out", before.allow_out, after.allow_out);
  if (rewrite_allow_chain(adds, "allow_fwd", before.allow_fwd, after.allow_fwd)) rule_gone = true;
  // Only a delete takes something away that a stamped flow may have passed by. (The elements the
  // kernel timed out are exceptions', whose flows are never stamped.)
  if (gone.empty() && !rule_gone) {
    after.generation = before.generation;
    return adds;
  }
  after.generation = next_generation(before.generation);
  return deletes + adds + generation_update(after);
}

}  // namespace seatlock::net
