#include "core/net/generation.hpp"

#include "core/net/domain_rules.hpp"

namespace seatlock::net {

namespace {

std::uint32_t stamp_of(std::uint32_t g) {
  return (g << 16) & kGenerationCtMask;
}

std::string stamp_elements(const CompiledRuleset& c) {
  const std::uint32_t s = stamp_of(c.generation);
  return nft_hex32(0) + " : " + nft_hex32(s) + ", " + nft_hex32(kDomainFlowCtMark) + " : " +
         nft_hex32(kDomainFlowCtMark | s);
}

// The one rule of chain `decided`.
std::string decided_rule(const CompiledRuleset& c, bool counted) {
  // Only a mark that is exactly ours (generation, maybe the domain bit) matches.
  // The named counter shows in `seatlockctl net status` (packets decided by their connection).
  return "ct mark and " + nft_hex32(~kDomainFlowCtMark) +
         " == " + nft_hex32(stamp_of(c.generation)) + " " +
         (counted ? std::string("counter name ") + kDecidedCounter + " " : std::string()) +
         "accept";
}

}  // namespace

std::uint32_t next_generation(std::uint32_t g) {
  return g % kGenerationCount + 1;
}

std::uint32_t seed_generation(UnixMillis now) {
  return static_cast<std::uint32_t>((now < 0 ? -now : now) % kGenerationCount) + 1;
}

std::string generation_fast_path() {
  return "    jump decided\n";
}

std::string generation_clear() {
  return "ct mark set ct mark and " + nft_hex32(~kGenerationCtMask) + " ";
}

std::string generation_definitions(const CompiledRuleset& c, bool counted) {
  return (counted ? std::string("  counter ") + kDecidedCounter + " { }\n" : std::string()) +
         "  map stamp {\n    type mark : mark\n    elements = { " + stamp_elements(c) +
         " }\n  }\n  chain decided {\n    " + decided_rule(c, counted) +
         "\n  }\n"
         // The stamp keeps the domain bit (the map's key) and is skipped when another user of
         // the ct mark set a bit: that flow stays checked packet by packet.
         "  chain accepted {\n    ct mark and " +
         nft_hex32(~(kDomainFlowCtMark | kGenerationCtMask)) + " == 0 ct mark set ct mark and " +
         nft_hex32(kDomainFlowCtMark) + " map @stamp\n    accept\n  }\n";
}

std::string generation_update(const CompiledRuleset& c) {
  std::string out;
  for (const char* table : {kOwnedTable, kFallbackTable}) {
    const std::string t = std::string(" inet ") + table;
    out += "flush map" + t + " stamp\nadd element" + t + " stamp { " + stamp_elements(c) +
           " }\nflush chain" + t + " decided\nadd rule" + t + " decided " +
           decided_rule(c, table == std::string(kOwnedTable)) + "\n";
  }
  return out;
}

}  // namespace seatlock::net
