#pragma once
// Deciding once per connection (docs/network.md "Established connections, close and expiry"):
// the rules that accept a new connection stamp the ruleset's current generation into bits of
// its conntrack mark (chain `accepted`), and early in each chain a `jump decided` accepts packets
// whose ct mark carries the current generation: chain `decided` holds one rule that compares
// with a constant (jump and compare ~35 ns a packet, where a lookup in a one-element set cost
// 80). Every change that takes something away puts a new constant in force by flushing and
// refilling `decided` in the same transaction as the element deletes, so each live flow is
// checked again at its next packet. Users' exceptions, the only elements the kernel expires on
// its own, never stamp.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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
// The early rule of the output, input and forward chains ("    jump decided\n"). Its text does
// not change with the generation, so a bump is no structural change of those chains.
std::string generation_fast_path();
// What an accepting rule ends with instead of "accept": stamp, then accept.
inline constexpr const char* kAcceptAndStamp = "goto accepted";
// The rule an enforce-mode drop runs first: clears the generation, so a denied flow's stale
// stamp cannot match again when the counter wraps.
std::string generation_clear();
// Map `stamp`, chains `decided` and `accepted` (part of each table's definition), and with
// `counted` (the owned table) the counter of `decided`: the fallback table's has none, since a
// counter costs every packet of every decided connection and the owned table's already shows
// how many there are.
std::string generation_definitions(const CompiledRuleset& compiled, bool counted);
// Commands that put `compiled.generation` in force in both tables in place: `stamp` refilled,
// `decided` flushed and given the rule with the new constant.
std::string generation_update(const CompiledRuleset& compiled);

}  // namespace seatlock::net
