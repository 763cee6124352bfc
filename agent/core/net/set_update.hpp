#pragma once
// In-place policy changes: when only the allow sets' elements, the DHCP lease servers (set
// dhcp4) and the allow chains' rules differ between the ruleset in force and the new one (a new
// or expired exception, an allow entry added or removed, close/open, a new lease), the change is
// "delete element" + "add element" (and, for close/open, a flush and refill of chains allow_out and
// allow_fwd) on both tables in one transaction instead of replacing the tables. The tables, their
// base chains and their named counters stay; the DNS guard's elements in its own sets stay too.
#include <cstddef>
#include <optional>
#include <string>

#include "core/net/ruleset.hpp"

namespace seatlock::net {

// Above this many elements deleted plus added, replacing the tables is cheaper (nft deletes
// interval elements one by one: 10,000 of them took seconds where a replace takes ~0.3 s).
inline constexpr std::size_t kMaxInPlaceChanges = 2000;

// The transaction that turns the tables compiled as `before` into `after` (both tables, deletes
// before adds); "" when nothing changes. nullopt when anything besides the allow sets' and
// dhcp4's elements differs (base chains, set definitions, counters, other sets), or more than
// kMaxInPlaceChanges elements change (e.g. 10,000 allow entries replaced by others): then the
// tables must be replaced. Elements of `before` whose `until` is not after `now` are left to the
// kernel's timeout (it removed them already). If the kernel no longer holds an element the
// transaction deletes, the transaction fails as a whole and the caller replaces the tables instead.
// Pieces `after` shares with `before` (compile_ruleset() reused them) are not looked at; the
// others are compared box by box, and only the boxes that differ are written out.
// When an element is deleted or an allow chain loses a rule (close) the generation (generation.hpp)
// is bumped (in `after.generation`) and put in force in the same transaction: every live flow is
// then checked again at its next packet. A change that only adds keeps the generation, so live
// flows keep their fast path.
std::optional<std::string> set_update_transaction(const CompiledRuleset& before,
                                                  CompiledRuleset& after, UnixMillis now);

}  // namespace seatlock::net
