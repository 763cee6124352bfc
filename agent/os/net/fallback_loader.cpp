#include "os/net/fallback_loader.hpp"

#include <stdexcept>

#include "core/net/fallback_file.hpp"
#include "core/policy/loader.hpp"
#include "os/base/policy_files.hpp"
#include "os/net/net_state.hpp"
#include "os/net/nft.hpp"

namespace seatlock::net {

namespace {

NetRules rules_from_policy_dir(const std::string& state_dir, const std::string& policy_dir,
                               UnixMillis now) {
  PolicyLoadOptions lo;
  lo.now = now;
  lo.expired_is_error = false;
  PolicyLoadResult r = load_policy(read_policy_dir(policy_dir), lo);
  if (!r.policy) {
    std::string all;
    for (const auto& e : r.errors) all += "\n  " + e.text();
    throw std::runtime_error("policy rejected:" + all);
  }
  SystemUserDirectory users;
  return rules_for_policy(*r.policy, users, std::nullopt, read_closed_flag(state_dir));
}

}  // namespace

FallbackLoad load_fallback(const std::string& state_dir, const std::string& policy_dir,
                           UnixMillis now) {
  FallbackLoad out;
  Nft nft;
  std::string refused;
  if (auto text = read_fallback_file(state_dir)) {
    try {
      if (auto rules = rules_from_fallback_file(*text)) {
        rules->closed = rules->closed || read_closed_flag(state_dir);
        CompiledRuleset c = compile_ruleset(*rules, now);
        nft.run(fallback_transaction(*rules, c));
        return {"state file (recompiled)", c.base_elements, c.exception_elements, c.closed,
                to_string(rules->mode)};
      }
      nft.run(*text);
      out.source = "state file (as written)";
      return out;
    } catch (const std::exception& e) {
      // A file nft refuses (corrupt, or from a version whose syntax this nft lacks) must not
      // leave the seat without a table: the policy directory decides, and rewrites the file.
      refused = std::string(" (state file refused: ") + e.what() + ")";
    }
  }
  NetRules rules = rules_from_policy_dir(state_dir, policy_dir, now);
  CompiledRuleset c = compile_ruleset(rules, now);
  nft.run(fallback_transaction(rules, c));
  write_fallback_file(state_dir, render_fallback_file(rules, c, now));
  return {"policy directory" + refused, c.base_elements, c.exception_elements, c.closed,
          to_string(rules.mode)};
}

std::string compile_policy_dir(const std::string& state_dir, const std::string& policy_dir,
                               UnixMillis now, bool fallback_only) {
  NetRules rules = rules_from_policy_dir(state_dir, policy_dir, now);
  CompiledRuleset c = compile_ruleset(rules, now);
  return fallback_only ? fallback_transaction(rules, c) : full_transaction(rules, c);
}

}  // namespace seatlock::net
