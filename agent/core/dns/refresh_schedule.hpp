#pragma once
// Names the guard looks up again on its own, before their elements expire: the collector's host
// name, whose answers go into the management sets (docs/dns.md "The collector by name"). Its
// elements expire after TTL + grace like any domain entry's, and nothing else may be asking for
// the name then (a long-lived delivery connection, a client that caches the address): without
// the refresh the seat could lose its collector. Pure: the guard asks which names are due.
//
// An answer puts the next lookup at half the answer's lifetime before the grace (half of
// clamp(TTL, floor)), so the new answer is in force long before the old elements end; the old
// elements stay until their own timeout (set updates only ever extend an element). A lookup
// that fails (no answer, SERVFAIL, no address) is simply retried: the name is due again after the
// retry interval until an answer comes, and nothing is taken out of the sets meanwhile.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/util/time.hpp"

namespace seatlock::dns {

class RefreshSchedule {
 public:
  static constexpr std::int64_t kMinIntervalMs = 1'000;  // never more than one lookup a second
  static constexpr std::int64_t kMaxRetryMs = 5'000;     // a failed lookup is retried this soon

  // The names to keep fresh (normalized). A new one is due at once; one already kept keeps its
  // time; the others are forgotten.
  void set_names(const std::vector<std::string>& names, UnixMillis now);
  bool contains(const std::string& name) const { return names_.count(name) != 0; }
  // An answer for `name` is in force (in the sets) and lives `lifetime_ms` before the grace
  // (clamp(TTL, floor)): due again after half of that, at least kMinIntervalMs.
  void answered(const std::string& name, std::int64_t lifetime_ms, UnixMillis now);
  // The names due at `now`. Each is then due again after its retry interval (min(interval,
  // kMaxRetryMs)) unless an answer comes first: that is how a failed lookup is retried.
  std::vector<std::string> take_due(UnixMillis now);
  std::optional<UnixMillis> due_at(const std::string& name) const;

 private:
  struct Entry {
    UnixMillis due = 0;
    std::int64_t interval_ms = kMaxRetryMs;  // until an answer tells
  };
  std::map<std::string, Entry> names_;
};

}  // namespace seatlock::dns
