#include "nft_duration.hpp"

#include <utility>

namespace seatlock::net {

std::string nft_duration(std::int64_t ms) {
  std::string out;
  const std::pair<std::int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) out += std::to_string(ms / size) + name;
    ms %= size;
  }
  if (ms > 0 || out.empty()) out += std::to_string(ms) + "ms";
  return out;
}

}  // namespace seatlock::net
