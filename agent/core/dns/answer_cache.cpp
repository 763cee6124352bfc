#include "core/dns/answer_cache.hpp"

#include <algorithm>

namespace seatlock::dns {

void AnswerCache::record(const std::string& name, const std::vector<SetElement>& elements,
                         UnixMillis now) {
  if (++since_prune_ >= 4096) {  // keeps the map to the names still alive
    since_prune_ = 0;
    for (auto it = until_.begin(); it != until_.end();) {
      std::erase_if(it->second, [&](const auto& kv) { return kv.second <= now; });
      it = it->second.empty() ? until_.erase(it) : std::next(it);
    }
  }
  auto& addresses = until_[name];
  for (const auto& e : elements) {
    UnixMillis& until = addresses[e.address];
    until = std::max(until, now + e.timeout_ms);
  }
}

std::vector<SetElement> AnswerCache::refill(const DomainTable& table, UnixMillis now) {
  std::vector<SetElement> out;
  for (auto it = until_.begin(); it != until_.end();) {
    std::erase_if(it->second, [&](const auto& kv) { return kv.second <= now; });
    const std::vector<DomainTarget> targets = table.match(it->first);
    if (it->second.empty() || targets.empty()) {
      it = until_.erase(it);
      continue;
    }
    for (const auto& [address, until] : it->second) {
      const bool v6 = address.find(':') != std::string::npos;
      for (const auto& t : targets)
        out.push_back({v6 ? t.set6 : t.set4, address, until - now, t.element_suffix});
    }
    ++it;
  }
  return out;
}

}  // namespace seatlock::dns
