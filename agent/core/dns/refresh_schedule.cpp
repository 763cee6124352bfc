#include "core/dns/refresh_schedule.hpp"

#include <algorithm>

namespace seatlock::dns {

void RefreshSchedule::set_names(const std::vector<std::string>& names, UnixMillis now) {
  std::map<std::string, Entry> kept;
  for (const auto& n : names) {
    auto it = names_.find(n);
    kept[n] = it != names_.end() ? it->second : Entry{now, kMaxRetryMs};
  }
  names_ = std::move(kept);
}

void RefreshSchedule::answered(const std::string& name, std::int64_t lifetime_ms, UnixMillis now) {
  auto it = names_.find(name);
  if (it == names_.end()) return;
  it->second.interval_ms = std::max(kMinIntervalMs, lifetime_ms / 2);
  it->second.due = now + it->second.interval_ms;
}

std::vector<std::string> RefreshSchedule::take_due(UnixMillis now) {
  std::vector<std::string> out;
  for (auto& [name, e] : names_) {
    if (e.due > now) continue;
    out.push_back(name);
    e.due = now + std::min(e.interval_ms, kMaxRetryMs);
  }
  return out;
}

std::optional<UnixMillis> RefreshSchedule::due_at(const std::string& name) const {
  auto it = names_.find(name);
  if (it == names_.end()) return std::nullopt;
  return it->second.due;
}

}  // namespace seatlock::dns
