#pragma once
// What the network component keeps in the state directory: the `net close` switch (so it
// survives restarts and reboots) and the fallback file. Also the policy -> NetRules step that
// needs the OS (user lookups, resolving the collector's name), shared by seatlockd and
// `seatlockctl net load-fallback|compile`.
#include <optional>
#include <string>
#include <vector>

#include "core/net/net_rules.hpp"
#include "core/net/ruleset.hpp"
#include "os/net/user_directory.hpp"

namespace seatlock::net {

bool read_closed_flag(const std::string& state_dir);
void write_closed_flag(const std::string& state_dir, bool closed);  // throws std::runtime_error

std::string fallback_file_path(const std::string& state_dir);
// Written atomically (temp file + fsync + rename) with mode 0600.
void write_fallback_file(const std::string& state_dir, const std::string& text);
std::optional<std::string> read_fallback_file(const std::string& state_dir);

// IP addresses of the policy's collector host (an IP literal is returned as is; a name is
// resolved, and an unresolvable one yields an empty list).
std::vector<std::string> resolve_collector(const std::string& url);

// Policy -> NetRules with uids resolved and the DHCP servers of the leases under `lease_root`;
// throws std::runtime_error for an unknown user/group.
NetRules rules_for_policy(const Policy& policy, UserDirectory& users,
                          std::optional<Mode> mode_override, bool closed,
                          const std::string& lease_root = "/");

}  // namespace seatlock::net
