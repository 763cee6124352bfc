#pragma once
// Time values used across seatlock: Unix milliseconds, RFC 3339 text and policy durations.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seatlock {

using UnixMillis = std::int64_t;

// "2026-11-28T14:03:11.123Z" (always UTC, always milliseconds).
std::string format_rfc3339_ms(UnixMillis t);

// Parses an RFC 3339 date-time that carries an offset ("Z" or "+08:00"); fractional seconds
// are allowed. Returns nullopt for anything else (no offset, "tomorrow", out-of-range fields).
std::optional<UnixMillis> parse_rfc3339(std::string_view text);

// Parses a policy duration: one or more <integer><unit> groups, units ms, s, m, h, d
// ("90s", "6h", "1h30m"). Returns milliseconds; nullopt when malformed or zero-length text.
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

// "1h30m" style rendering of a duration in milliseconds (for status output).
std::string format_duration(std::int64_t ms);

// Parses a byte size: an integer with an optional unit B, KiB, MiB, GiB (also K, M, G).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

}  // namespace seatlock
