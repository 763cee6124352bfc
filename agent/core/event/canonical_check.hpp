#pragma once
// Whether a received JSON text is already in canonical form (canonical_bytes of what it
// parses to), without serialising it again. The collector asks this for every event line: the
// contract sends canonical bytes, so the answer is nearly always yes and the line's own bytes
// can be hashed.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace seatlock {

// `parsed` must be what `text` parses to. Exactly canonical_bytes(parsed) == text: a byte scan
// decides the common shape (no white space, keys strictly ascending, printable-ASCII strings
// without escapes, integers); anything else (escapes, non-ASCII, fractions, exponents, -0, very
// long numbers) is decided by serialising `parsed` and comparing.
bool is_canonical_text(std::string_view text, const nlohmann::json& parsed);

// The byte scan alone, for text already known to be valid JSON. `unsure` = the scan cannot
// tell (see above), or the text nests deeper than max_depth.
enum class CanonicalScan { canonical, not_canonical, unsure };
CanonicalScan scan_canonical(std::string_view text, std::size_t max_depth = 64);

}  // namespace seatlock
