#pragma once
// In-place policy changes: when only the allow sets' elements differ between the ruleset in
// force and the new one (a new or expired exception, close/open, an allow entry added or
// removed), the change is "delete element" + "add element" on both tables in one transaction
// instead of replacing the tables. The tables, their chains and their named counters stay; the
// DNS guard's elements in its own sets stay too.
#include <cstddef>
#include <optional>
#include <string>

#include "core/net/ruleset.hpp"

namespace seatlock::net {

// Above this many elements deleted plus added, replacing the tables is cheaper (nft deletes
// interval elements one by one: 10,000 of them took seconds where a replace takes ~0.3 s).
inline constexpr std::size_t kMaxInPlaceChanges = 2000;

// The transaction that turns the tables compiled as `before` into `after` (both tables, deletes
// before adds); "" when nothing changes. nullopt when anything besides the allow sets' elements
// differs (chains, set definitions, counters, other sets), or more than kMaxInPlaceChanges
// elements change (e.g. closing a seat with 10,000 allow entries): then the tables must be
// replaced.
// Elements of `before` whose `until` is not after `now` are left to the kernel's timeout (it
// removed them already). If the kernel no longer holds an element the transaction deletes, the
// transaction fails as a whole and the caller replaces the tables instead.
// Pieces `after` shares with `before` (compile_ruleset() reused them) are not looked at; the
// others are compared box by box, and only the boxes that differ are written out.
// When an element is deleted the generation (generation.hpp) is bumped (in `after.generation`)
// and put in force in the same transaction: every live flow is then checked again at its next
// packet. A change that only adds keeps the generation, so live flows keep their fast path.
std::optional<std::string> set_update_transaction(const CompiledRuleset& before,
                                                  CompiledRuleset& after, UnixMillis now);

}  // namespace seatlock::net
