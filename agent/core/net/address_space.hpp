#pragma once
// Addresses as plain integers so CIDRs, ranges and ports can be merged and made disjoint
// before they go into nftables interval sets (the kernel rejects overlapping intervals in
// concatenated sets, so the compiler must never emit two elements that overlap).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/policy/policy.hpp"

namespace seatlock::net {

using U128 = unsigned __int128;

struct AddrRange {
  int family = 4;  // 4 or 6
  U128 first = 0;
  U128 last = 0;
};

// "10.0.0.0/8", "fd00::/64", "192.0.2.7" (host) -> range; nullopt when malformed.
std::optional<AddrRange> parse_cidr_range(const std::string& text);
AddrRange cidr_range(const Cidr& cidr);  // throws std::invalid_argument when malformed
std::optional<AddrRange> parse_address(const std::string& text);  // a single address
std::string format_address(int family, U128 value);
// "a" when first == last, else "a-b" (nft accepts both inside interval sets).
std::string format_range(const AddrRange& r);

// One box of (address range x port range) with a value; on overlap the larger value wins.
// Values carry "until" for exceptions (INT64_MAX = no expiry) so the longest-lived grant
// covers a shared piece.
struct Box {
  U128 addr_first = 0;
  U128 addr_last = 0;
  std::uint16_t port_first = 0;
  std::uint16_t port_last = 65535;
  std::int64_t value = 0;
};

// Returns boxes that cover exactly the union of `in`, never overlap, and carry the maximum
// value of the inputs covering them. Adjacent pieces with equal values are merged.
std::vector<Box> disjoint_boxes(const std::vector<Box>& in);

// The order disjoint_boxes() writes boxes in (ports, then addresses, then value).
bool box_less(const Box& x, const Box& y);
// Indices of `v` in box_less order: identity when `v` is already in it (the usual case).
std::vector<std::size_t> box_order(const std::vector<Box>& v);

}  // namespace seatlock::net
