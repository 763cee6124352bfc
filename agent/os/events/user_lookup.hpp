#pragma once
// The user an event names, from a uid (NSS, getpwuid_r): for the denied-traffic events of the
// network service (NFLOG's uid) and the DNS guard (the asker's socket owner).
#include <cstdint>
#include <optional>

#include "core/event/event.hpp"

namespace seatlock {

// nullopt for a negative uid (unknown asker); the name stays "" when NSS does not know the uid.
std::optional<UserRef> user_for_uid(std::int64_t uid);

}  // namespace seatlock
