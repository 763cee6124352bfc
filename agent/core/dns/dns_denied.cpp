#include "core/dns/dns_denied.hpp"

namespace seatlock::dns {

bool DnsDeniedAggregator::add(const DnsDeniedKey& key, const std::string& qtype, UnixMillis now) {
  const bool opened = empty();
  if (opened) start_ = now;
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    if (groups_.size() >= max_keys_) {
      ++overflow_queries_;
      overflow_seen_[key] = true;
      return opened;
    }
    it = groups_.emplace(key, DnsDeniedGroup{key, qtype, 0, now, now}).first;
  }
  ++it->second.count;
  it->second.last = now;
  return opened;
}

DnsDeniedWindow DnsDeniedAggregator::take(UnixMillis now) {
  DnsDeniedWindow w;
  w.start = start_;
  w.end = now;
  for (auto& [key, g] : groups_) w.groups.push_back(std::move(g));
  w.overflow_queries = overflow_queries_;
  w.overflow_names = overflow_seen_.size();
  groups_.clear();
  overflow_seen_.clear();
  overflow_queries_ = 0;
  return w;
}

nlohmann::json dns_denied_details(const DnsDeniedGroup& g, const DnsDeniedWindow& w,
                                  const std::string& user) {
  // Times as RFC 3339, like net.egress_denied's.
  nlohmann::json d = {{"name", g.key.name},
                      {"qtype", g.qtype},
                      {"reason", g.key.reason},
                      {"count", g.count},
                      {"first", format_rfc3339_ms(g.first)},
                      {"last", format_rfc3339_ms(g.last)},
                      {"window_start", format_rfc3339_ms(w.start)},
                      {"window_end", format_rfc3339_ms(w.end)}};
  d["uid"] = g.key.uid >= 0 ? nlohmann::json(g.key.uid) : nlohmann::json(nullptr);
  d["user"] = user;
  return d;
}

nlohmann::json dns_denied_overflow_details(const DnsDeniedWindow& w) {
  return {{"name", "other-names"},
          {"count", w.overflow_queries},
          {"names", w.overflow_names},
          {"window_start", format_rfc3339_ms(w.start)},
          {"window_end", format_rfc3339_ms(w.end)}};
}

}  // namespace seatlock::dns
