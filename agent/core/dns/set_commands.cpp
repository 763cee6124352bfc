#include "core/dns/set_commands.hpp"

#include <algorithm>

#include "core/net/nft_duration.hpp"

namespace seatlock::dns {

void ElementExpiry::extend(SetElement& e, UnixMillis now) {
  if (++since_prune_ >= 4096) {  // keeps the map to the elements still alive
    since_prune_ = 0;
    std::erase_if(until_, [&](const auto& kv) { return kv.second <= now; });
  }
  UnixMillis& until = until_[{e.set, e.address}];
  e.timeout_ms = std::max(e.timeout_ms, until - now);
  until = now + e.timeout_ms;
}

bool ElementExpiry::covers(SetElement& e, UnixMillis now) const {
  auto it = until_.find({e.set, e.address});
  if (it == until_.end()) return false;
  const std::int64_t left = it->second - now;
  const std::int64_t margin = std::max<std::int64_t>(1'000, e.timeout_ms / 10);
  if (left < e.timeout_ms - margin) return false;
  e.timeout_ms = left;
  return true;
}

std::string set_update_commands(const std::vector<SetElement>& elements,
                                const std::vector<std::string>& tables) {
  std::string out;
  for (const auto& table : tables)
    for (const auto& e : elements) {
      const std::string where =
          " element inet " + table + " " + e.set + " { " + e.address + e.suffix;
      out += "add" + where + " }\n";
      out += "delete" + where + " }\n";
      out += "add" + where + " timeout " + net::nft_duration(e.timeout_ms) + " }\n";
    }
  return out;
}

}  // namespace seatlock::dns
