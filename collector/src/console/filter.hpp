#pragma once
// The console's event filter (issue 15): what /api/events and /api/export select, parsed from
// the URL query, and the one definition of "this event matches" both share.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "store.hpp"

namespace seatlock::collector::console {

// text: a substring of the event line (case-insensitive).
struct ConsoleFilter {
  std::optional<std::string> seat, user, kind, severity, outcome, text;
  std::optional<std::int64_t> since_ms, until_ms;  // [since, until)
};

// Query parameters (already URL-decoded): from, to (RFC 3339 with offset, or ms since epoch),
// seat, user, kind, severity, outcome, q. Paging/format parameters (limit, after, format,
// export_id) are left to the caller; any other parameter is an error. Empty values mean "no
// condition". Returns the error ("to: expected RFC 3339 time or milliseconds, got \"x\"") or
// nullopt.
std::optional<std::string> parse_filter(const std::map<std::string, std::string>& query,
                                        ConsoleFilter& out);

// The conditions the store cannot check from its columns: outcome (a field of the line) and
// text. matches() = columns + these.
bool matches_line(const ConsoleFilter& f, const std::string& line);
bool matches(const ConsoleFilter& f, const StoredEvent& e);

// The store-side part of the filter (seat, user, kind, severity, time).
EventFilter store_filter(const ConsoleFilter& f);

// Every matching event, ascending by (time_ms, seat_id, seq) — the order of an export.
// Return false from `fn` to stop.
void scan_matches(EventStore& store, const ConsoleFilter& f,
                  const std::function<bool(const StoredEvent&)>& fn);

}  // namespace seatlock::collector::console
