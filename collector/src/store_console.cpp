// The EventStore defaults for the console's overview queries: answered by scanning query()
// (test doubles; a real store answers from an index or rollup).
#include <algorithm>
#include <map>

#include "audit/collector_log.hpp"
#include "core/event/kinds.hpp"
#include "store.hpp"

namespace seatlock::collector {

bool counts_as_violation(std::string_view seat, std::string_view kind, std::string_view severity) {
  return seat.rfind(audit::kCollectorChainPrefix, 0) != 0 && !is_housekeeping_kind(kind) &&
         severity != "info";
}

std::vector<EventStore::ViolationBucket> EventStore::violation_buckets(std::int64_t since_ms,
                                                                       std::int64_t until_ms) {
  auto floor_to = [](std::int64_t t, std::int64_t unit) {
    return t >= 0 ? t - t % unit : t - (unit - 1 - (-t - 1) % unit);
  };
  std::map<std::pair<std::int64_t, std::string>, std::uint64_t> counts;
  EventFilter f;
  f.since_ms = floor_to(since_ms, kViolationBucketMs);
  f.until_ms = floor_to(until_ms, kViolationBucketMs) +
               (until_ms % kViolationBucketMs ? kViolationBucketMs : 0);
  query(f, [&](const StoredEvent& e) {
    std::int64_t b = floor_to(e.time_ms, kViolationBucketMs);
    if (b >= since_ms && b < until_ms && counts_as_violation(e.seat_id, e.kind, e.severity))
      ++counts[{b, e.kind}];
    return true;
  });
  std::vector<ViolationBucket> out;
  for (const auto& [k, n] : counts) out.push_back({k.first, k.second, n});
  return out;
}

std::vector<EventStore::ViolationTotal> EventStore::top_violators(bool by_user,
                                                                  std::int64_t since_ms,
                                                                  std::int64_t until_ms,
                                                                  std::size_t limit) {
  constexpr std::int64_t kHour = 3'600'000;
  EventFilter f;
  f.since_ms = since_ms - ((since_ms % kHour) + kHour) % kHour;
  f.until_ms = until_ms - ((until_ms % kHour) + kHour) % kHour;
  std::map<std::string, std::uint64_t> counts;
  query(f, [&](const StoredEvent& e) {
    if (!counts_as_violation(e.seat_id, e.kind, e.severity)) return true;
    if (by_user && e.user_name.empty()) return true;
    ++counts[by_user ? e.user_name : e.seat_id];
    return true;
  });
  std::vector<ViolationTotal> out;
  for (const auto& [name, n] : counts) out.push_back({name, n});
  std::stable_sort(out.begin(), out.end(), [](const ViolationTotal& a, const ViolationTotal& b) {
    return a.count > b.count;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace seatlock::collector
