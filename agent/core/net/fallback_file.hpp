#pragma once
// <state_dir>/netlock.nft: the fail-closed table seatlock's boot oneshot loads before
// network-pre.target. It is a plain nft script (`nft -f netlock.nft` works by hand), whose
// second line carries the NetRules it was compiled from, so `seatlockctl net load-fallback`
// can recompile it at boot with the current time: exception timeouts then count from their
// real `until`, not from the moment the file is loaded.
#include <optional>
#include <string>

#include "core/net/net_rules.hpp"
#include "core/net/ruleset.hpp"

namespace seatlock::net {

inline constexpr const char* kFallbackFileName = "netlock.nft";

std::string render_fallback_file(const NetRules& rules, const CompiledRuleset& compiled,
                                 UnixMillis now);
// The NetRules embedded in a fallback file; nullopt when the header is missing or unreadable
// (the file is then loaded as written).
std::optional<NetRules> rules_from_fallback_file(const std::string& text);

}  // namespace seatlock::net
