#include "console_query_fixture.hpp"

#include <nlohmann/json.hpp>

#include "store_open.hpp"

namespace seatlock::testing {

using collector::StoredEvent;

ConsoleStore::ConsoleStore(const std::string& kind, int count)
    : test_store(kind, dir), store(collector::open_store(test_store.spec, /*create=*/true)) {
  const std::vector<std::string> seats = {"cc-a", "cc-b", "cc-c", "cc-d", "cc-e"};
  const std::vector<std::string> users = {"alice", "bob", "", "chen"};
  struct K {
    const char* kind;
    const char* severity;
    const char* outcome;
  };
  const std::vector<K> kinds = {
      {"usb.blocked", "high", "blocked"},         {"usb.storage_detected", "high", "detected"},
      {"net.egress_denied", "medium", "blocked"}, {"agent.heartbeat", "info", "reported"},
      {"net.tamper", "critical", "reverted"},     {"usb.exception_used", "medium", "allowed"},
      {"policy.applied", "info", "applied"}};
  auto txn = store->begin();
  for (int i = 0; i < count; ++i) {
    const std::string& seat = seats[static_cast<std::size_t>(i * 7 % 5)];
    const K& k = kinds[static_cast<std::size_t>(i * 3 % 7)];
    // Spread over four days before now; every 10th event shares its time with the one before
    // (ties are ordered by seat, then seq).
    const std::int64_t step = 4 * 86'400'000LL / count;
    std::int64_t t = kConsoleNow - 4 * 86'400'000LL + (i - (i % 10 == 1 ? 1 : 0)) * step;
    nlohmann::json details = {{"vid", "0951"},
                              {"pid", "16" + std::to_string(i % 3)},
                              {"serial", "SN" + std::to_string(i % 4)},
                              {"manufacturer", "Kingston"},
                              {"product", i % 2 ? "DataTraveler" : "数据旅行者"}};
    StoredEvent e;
    e.seat_id = seat;
    e.seq = ++next_seq[seat];
    e.time_ms = t;
    e.kind = k.kind;
    e.severity = k.severity;
    e.user_name = users[static_cast<std::size_t>(i % 4)];
    e.id = "id-" + std::to_string(i);
    nlohmann::json line = {{"id", e.id},
                           {"seq", e.seq},
                           {"kind", e.kind},
                           {"severity", e.severity},
                           {"outcome", k.outcome},
                           {"details", details},
                           {"seat", {{"id", seat}}}};
    if (!e.user_name.empty()) line["user"] = {{"name", e.user_name}};
    e.line = line.dump();
    e.chain_hash = "h" + std::to_string(i);
    e.prev = "p";
    e.received_ms = t + 5;
    txn->insert_event(e);
    events.push_back(e);
  }
  for (const std::string& seat : seats) {
    collector::SeatRecord rec;
    rec.seat_id = seat;
    rec.last_seq = next_seq[seat];
    for (const StoredEvent& e : events)
      if (e.seat_id == seat && e.seq == rec.last_seq) {
        rec.last_event_ms = rec.last_received_ms = e.time_ms;
        rec.last_event_kind = e.kind;
      }
    txn->put_seat(rec);
  }
  txn->commit();
}

StoredEvent ConsoleStore::add(const std::string& seat, const std::string& user,
                              const std::string& kind, const std::string& severity,
                              const std::string& outcome, std::int64_t time_ms,
                              const nlohmann::json& details) {
  StoredEvent e;
  e.seat_id = seat;
  e.seq = ++next_seq[seat];
  e.time_ms = time_ms;
  e.kind = kind;
  e.severity = severity;
  e.user_name = user;
  e.id = "add-" + seat + "-" + std::to_string(e.seq);
  nlohmann::json line = {{"id", e.id},           {"seq", e.seq},       {"kind", kind},
                         {"severity", severity}, {"outcome", outcome}, {"details", details}};
  if (!user.empty()) line["user"] = {{"name", user}};
  e.line = line.dump();
  e.chain_hash = "x";
  e.prev = "p";
  e.received_ms = time_ms;
  auto txn = store->begin();
  txn->insert_event(e);
  collector::SeatRecord rec = txn->seat(seat).value_or(collector::SeatRecord{});
  rec.seat_id = seat;
  rec.last_seq = e.seq;
  rec.last_event_ms = time_ms;
  rec.last_received_ms = time_ms;
  rec.last_event_kind = kind;
  txn->put_seat(rec);
  txn->commit();
  events.push_back(e);
  return e;
}

}  // namespace seatlock::testing
