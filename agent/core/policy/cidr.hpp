#pragma once
// IPv4/IPv6 address and CIDR parsing for policy values (pure, no libc resolver calls).
// Canonical text: IPv4 dotted quad; IPv6 per RFC 5952 (lower case, longest run of two or more
// zero groups shortened to "::").
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/policy/policy.hpp"

namespace seatlock {

struct IpAddress {
  int family = 4;                        // 4 or 6
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
  std::string text() const;              // canonical text
  bool operator==(const IpAddress&) const = default;
};

std::optional<IpAddress> parse_ip(std::string_view text);

struct CidrParse {
  std::optional<Cidr> cidr;  // set on success
  std::string error;         // "expected ..." message on failure
};

// A network in CIDR notation ("10.0.0.0/8", "fd00::/8"). A bare address means a single host
// (/32 or /128). Host bits set after the prefix are an error that names the network meant
// ("did you mean 10.0.0.0/8?"): a typo in an allowlist must not silently widen or narrow it.
CidrParse parse_cidr(std::string_view text);

// An interface address with its prefix ("10.1.2.117/24"): host bits are the point here, so
// `address` keeps the host address (canonical text) and the prefix is required.
CidrParse parse_interface_address(std::string_view text);

}  // namespace seatlock
