#pragma once
// Refused names, aggregated per (uid, name) per window into `net.dns_denied` events, bounded
// like net.egress_denied (docs/events.md): at most max_keys groups per window; queries for
// further names are only counted (overflow), so a tunnelling flood of random names yields a
// bounded number of events.
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "core/util/time.hpp"

namespace seatlock::dns {

struct DnsDeniedKey {
  std::int64_t uid = -1;  // -1: the guard could not tell who asked
  std::string name;       // normalized question name
  std::string reason;     // "not-allowed" or "audit" (would be refused; answered)
  bool operator<(const DnsDeniedKey& o) const {
    return std::tie(uid, name, reason) < std::tie(o.uid, o.name, o.reason);
  }
};

struct DnsDeniedGroup {
  DnsDeniedKey key;
  std::string qtype;  // of the first query ("A", "AAAA", "TXT", ...)
  std::uint64_t count = 0;
  UnixMillis first = 0;
  UnixMillis last = 0;
};

struct DnsDeniedWindow {
  UnixMillis start = 0;
  UnixMillis end = 0;
  std::vector<DnsDeniedGroup> groups;
  std::uint64_t overflow_queries = 0;  // queries of names beyond max_keys
  std::size_t overflow_names = 0;
};

class DnsDeniedAggregator {
 public:
  explicit DnsDeniedAggregator(std::size_t max_keys = 200) : max_keys_(max_keys) {}
  // True when this query opened a new window (the caller arms the window timer).
  bool add(const DnsDeniedKey& key, const std::string& qtype, UnixMillis now);
  bool empty() const { return groups_.empty() && overflow_queries_ == 0; }
  DnsDeniedWindow take(UnixMillis now);

 private:
  std::size_t max_keys_;
  UnixMillis start_ = 0;
  std::map<DnsDeniedKey, DnsDeniedGroup> groups_;
  std::map<DnsDeniedKey, bool> overflow_seen_;
  std::uint64_t overflow_queries_ = 0;
};

// `details` of one net.dns_denied event: uid, user (the caller resolves it; "" when unknown),
// name, qtype, reason, count, first, last, window_start, window_end.
nlohmann::json dns_denied_details(const DnsDeniedGroup& g, const DnsDeniedWindow& w,
                                  const std::string& user);
// The summary of a window's overflow ("other-names"): queries and names.
nlohmann::json dns_denied_overflow_details(const DnsDeniedWindow& w);

}  // namespace seatlock::dns
