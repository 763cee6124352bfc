#include "audit/subject_query.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "audit/collector_log.hpp"

namespace seatlock::collector::audit {

bool is_about_seat(const StoredEvent& e, const std::string& seat) {
  // Cheap test first: the seat id must occur in the line at all.
  if (e.line.find(seat) == std::string::npos) return false;
  auto j = nlohmann::json::parse(e.line, nullptr, false);
  if (j.is_discarded()) return false;
  auto d = j.find("details");
  if (d == j.end() || !d->is_object()) return false;
  auto seats = d->find("seats");
  if (seats == d->end() || !seats->is_array()) return false;
  return std::any_of(seats->begin(), seats->end(),
                     [&](const nlohmann::json& s) { return s.is_string() && s == seat; });
}

void query_with_subjects(EventStore& store, const EventFilter& f,
                         const std::function<bool(const StoredEvent&)>& fn) {
  if (!f.seat || is_collector_chain(*f.seat)) {
    store.query(f, fn);
    return;
  }
  std::vector<StoredEvent> about;
  for (const SeatRecord& chain : store.seats()) {
    if (!is_collector_chain(chain.seat_id)) continue;
    EventFilter g = f;
    g.seat = chain.seat_id;
    g.limit = 0;
    store.query(g, [&](const StoredEvent& e) {
      if (is_about_seat(e, *f.seat)) about.push_back(e);
      return true;
    });
  }
  if (about.empty()) {
    store.query(f, fn);
    return;
  }
  std::stable_sort(about.begin(), about.end(), [](const StoredEvent& a, const StoredEvent& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.seq < b.seq;
  });
  std::uint64_t sent = 0;
  bool more = true;
  std::size_t next = 0;
  auto emit = [&](const StoredEvent& e) {
    if (!more) return;
    more = fn(e);
    if (f.limit && ++sent >= f.limit) more = false;
  };
  EventFilter own = f;
  own.limit = 0;  // the limit counts the merged stream
  store.query(own, [&](const StoredEvent& e) {
    // A collector event recorded in the same millisecond as a seat event comes after it.
    while (more && next < about.size() && about[next].time_ms < e.time_ms) emit(about[next++]);
    emit(e);
    return more;
  });
  while (more && next < about.size()) emit(about[next++]);
}

}  // namespace seatlock::collector::audit
