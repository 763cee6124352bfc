#pragma once
// A store (SQLite file or ClickHouse database, store_fixture.hpp) filled with generated events
// for the console query tests: several seats and users, USB/network/policy kinds, outcomes,
// spread over a few days; `events` keeps what was stored to compare answers against.
#include <memory>
#include <string>
#include <vector>

#include "store.hpp"
#include "store_fixture.hpp"

namespace seatlock::testing {

// 2026-12-01T12:00:00Z, the clock the tests run at.
inline constexpr std::int64_t kConsoleNow = 1'796'126'400'000;

struct ConsoleStore {
  ConsoleStore(const std::string& kind, int count);
  TempDir dir;
  TestStore test_store;
  std::unique_ptr<collector::EventStore> store;
  std::vector<collector::StoredEvent> events;  // as inserted
  // Inserts one event (seq = the seat's next); returns it.
  collector::StoredEvent add(const std::string& seat, const std::string& user,
                             const std::string& kind, const std::string& severity,
                             const std::string& outcome, std::int64_t time_ms,
                             const nlohmann::json& details);
  std::map<std::string, std::uint64_t> next_seq;
};

}  // namespace seatlock::testing
