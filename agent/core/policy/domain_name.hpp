#pragma once
// Domain names and wildcards in allow entries ("crm.example.com", "*.example.com"). Pure; the
// DNS guard (core/dns) matches answers against the canonical form produced here.
#include <optional>
#include <string>
#include <string_view>

namespace seatlock {

struct DomainParse {
  std::optional<std::string> name;  // canonical: lower case, no trailing dot; "*.x.y" wildcard
  std::string error;                // "expected ..." message on failure
};

// True when an allow entry's `to` string is meant as a name rather than an address: it has no
// ':' or '/' and is not made of digits and dots only. Everything else is parsed as a CIDR, so
// "10.0.0.300" keeps the address error instead of becoming a strange name.
bool looks_like_domain(std::string_view text);

// Rules: labels 1-63 characters of letters, digits and '-' (not first or last), at least two
// labels, total length <= 253 (a trailing dot is accepted and dropped), the last label begins
// with a letter (so "10.0.0.0a" is not read as a name), '*' only as the whole leftmost label
// with at least two labels after it ("*.com" would allow a whole top-level domain).
DomainParse parse_domain_pattern(std::string_view text);

}  // namespace seatlock
