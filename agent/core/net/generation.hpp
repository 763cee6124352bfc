#pragma once
// Deciding once per connection (docs/network.md "Established connections, close and expiry"):
// the rules that accept a new connection stamp the ruleset's current generation into bits of
// its conntrack mark (chain `accepted`), and an early rule in each chain accepts packets whose
// ct mark carries the current generation (set `gen`). Every change that takes something away
// bumps the generation in place (element update, same transaction), so each live flow is
// checked again at its next packet; the `gen` element also times out at the earliest exception
// expiry, so the kernel's own expiry of an exception element re-checks flows at once as well.
#include <cstdint>
#include <string>

#include "core/net/ruleset.hpp"

namespace seatlock::net {

// The ct mark bits the generation uses (1..4095 in bits 16-27; 0 = not stamped). The domain
// flow bit (kDomainFlowCtMark) is kept; a connection with any other ct mark bit set (another
// user of the mark) is not stamped and so is checked on every packet, as before.
inline constexpr std::uint32_t kGenerationCtMask = 0x0fff0000;
inline constexpr std::uint32_t kGenerationCount = 4095;

// The generation after `g` (never 0).
std::uint32_t next_generation(std::uint32_t g);
// A fresh compile's generation, from the clock: a restarted seatlockd or a boot fallback is
// unlikely to reuse the one the kernel's conntrack marks still carry.
std::uint32_t seed_generation(UnixMillis now);

// The named counter of the packets the owned table's early rule accepted.
inline constexpr const char* kDecidedCounter = "connection_decided";
// The early rule ("    ct mark and ... @gen counter name connection_decided accept\n"); the
// fallback table's (`counted` false) has no counter: a counter costs every packet of every
// decided connection, and the owned table's already shows how many there are.
std::string generation_fast_path(bool counted);
// What an accepting rule ends with instead of "accept": stamp, then accept.
inline constexpr const char* kAcceptAndStamp = "goto accepted";
// The rule an enforce-mode drop runs first: clears the generation, so a denied flow's stale
// stamp cannot match again when the counter wraps.
std::string generation_clear();
// Set `gen`, map `stamp` and chain `accepted` (part of each table's definition), and with
// `counted` (the owned table) the counter of the early rule.
std::string generation_definitions(const CompiledRuleset& compiled, bool counted);
// Commands that put `compiled.generation` (with its timeout at compiled.next_expiry) in force
// in both tables in place.
std::string generation_update(const CompiledRuleset& compiled, UnixMillis now);

}  // namespace seatlock::net
