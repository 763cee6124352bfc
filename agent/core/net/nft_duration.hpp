#pragma once
#include <cstdint>
#include <string>

namespace seatlock::net {

// A duration as nft writes it, "1d2h3m4s5ms": nft 1.0.6 refuses large single-unit values
// ("7200000000ms" is "value too large"), while a composite duration of any length parses.
std::string nft_duration(std::int64_t ms);

}  // namespace seatlock::net
