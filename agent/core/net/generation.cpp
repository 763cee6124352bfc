#include "core/net/generation.hpp"

#include <algorithm>
#include <cstdio>

#include "core/net/domain_rules.hpp"
#include "core/net/nft_duration.hpp"

namespace seatlock::net {

namespace {

std::uint32_t stamp_of(std::uint32_t g) {
  return (g << 16) & kGenerationCtMask;
}

// "0x00010000 timeout 1h" (the timeout only while an exception or a closure will end). It ends
// a second early: the exception's own element was timed from another `now` (an earlier apply),
// and a generation that outlived it by a few milliseconds would let its flows pass that long.
std::string gen_element(const CompiledRuleset& c, UnixMillis now) {
  std::string e = nft_hex32(stamp_of(c.generation));
  if (c.next_expiry)
    e += " timeout " + nft_duration(std::max<UnixMillis>(1, *c.next_expiry - now - 1000));
  return e;
}

std::string stamp_elements(const CompiledRuleset& c) {
  const std::uint32_t s = stamp_of(c.generation);
  return nft_hex32(0) + " : " + nft_hex32(s) + ", " + nft_hex32(kDomainFlowCtMark) + " : " +
         nft_hex32(kDomainFlowCtMark | s);
}

}  // namespace

std::uint32_t next_generation(std::uint32_t g) {
  return g % kGenerationCount + 1;
}

std::uint32_t seed_generation(UnixMillis now) {
  return static_cast<std::uint32_t>((now < 0 ? -now : now) % kGenerationCount) + 1;
}

std::string generation_fast_path(bool counted) {
  // Only a mark that is exactly ours (generation, maybe the domain bit) matches.
  // The named counter shows in `seatlockctl net status` (packets decided by their connection).
  return "    ct mark and " + nft_hex32(~kDomainFlowCtMark) + " @gen " +
         (counted ? std::string("counter name ") + kDecidedCounter + " " : std::string()) +
         "accept\n";
}

std::string generation_clear() {
  return "ct mark set ct mark and " + nft_hex32(~kGenerationCtMask) + " ";
}

std::string generation_definitions(const CompiledRuleset& c, bool counted) {
  const UnixMillis now = c.compiled_at;
  return (counted ? std::string("  counter ") + kDecidedCounter + " { }\n" : std::string()) +
         "  set gen {\n    type mark\n    flags timeout\n    elements = { " + gen_element(c, now) +
         " }\n  }\n  map stamp {\n    type mark : mark\n    elements = { " + stamp_elements(c) +
         " }\n  }\n"
         // The stamp keeps the domain bit (the map's key) and is skipped when another user of
         // the ct mark set a bit: that flow stays checked packet by packet.
         "  chain accepted {\n    ct mark and " +
         nft_hex32(~(kDomainFlowCtMark | kGenerationCtMask)) + " == 0 ct mark set ct mark and " +
         nft_hex32(kDomainFlowCtMark) + " map @stamp\n    accept\n  }\n";
}

std::string generation_update(const CompiledRuleset& c, UnixMillis now) {
  std::string out;
  for (const char* table : {kOwnedTable, kFallbackTable}) {
    const std::string t = std::string(" inet ") + table;
    out += "flush set" + t + " gen\nadd element" + t + " gen { " + gen_element(c, now) +
           " }\nflush map" + t + " stamp\nadd element" + t + " stamp { " + stamp_elements(c) +
           " }\n";
  }
  return out;
}

}  // namespace seatlock::net
