#pragma once
// The common case of ingest, fast: a canonical event line that satisfies every rule of
// event_from_json, read with simdjson straight into a StoredEvent (no nlohmann tree, no second
// serialisation). Anything else (a rule broken, escapes, fractions, not canonical, too deep)
// returns nullopt and the caller runs the full nlohmann path, which decides and words the error:
// the fast path only ever accepts what the full path accepts, with the same fields.
#include <cstdint>
#include <optional>
#include <string_view>

#include "store.hpp"

namespace seatlock::collector {

std::optional<StoredEvent> fast_stored_event(std::string_view line, std::int64_t now_ms);

}  // namespace seatlock::collector
