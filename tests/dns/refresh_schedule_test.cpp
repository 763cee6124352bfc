// The names the guard looks up again on its own (the collector's): when, and what a failed
// lookup does (core/dns/refresh_schedule).
#include "core/dns/refresh_schedule.hpp"

#include <catch2/catch.hpp>

using seatlock::dns::RefreshSchedule;
using Names = std::vector<std::string>;

TEST_CASE("a kept name is looked up at once, then at half its lifetime before the grace", "[dns]") {
  RefreshSchedule s;
  s.set_names({"collector.example.net"}, 1'000);
  CHECK(s.take_due(999).empty());
  CHECK(s.take_due(1'000) == Names{"collector.example.net"});
  CHECK(s.take_due(1'001).empty());  // in flight: not asked again at every tick
  // The answer: TTL 300 s (above the floor) -> next lookup 150 s later, long before TTL + grace.
  s.answered("collector.example.net", 300'000, 2'000);
  CHECK(s.due_at("collector.example.net") == 152'000);
  CHECK(s.take_due(151'999).empty());
  CHECK(s.take_due(152'000) == Names{"collector.example.net"});
  // A tiny TTL still means at most one lookup a second.
  s.answered("collector.example.net", 0, 200'000);
  CHECK(s.due_at("collector.example.net") == 201'000);
  // Answers for other names change nothing.
  s.answered("crm.example.net", 10'000, 200'000);
  CHECK_FALSE(s.contains("crm.example.net"));
}

TEST_CASE("a failed refresh is retried until an answer comes", "[dns]") {
  RefreshSchedule s;
  s.set_names({"collector.example.net"}, 0);
  s.answered("collector.example.net", 60'000, 0);  // due at 30 s
  CHECK(s.take_due(30'000) == Names{"collector.example.net"});
  // No answer (resolver down): due again after the retry interval, again and again: the
  // elements already in the sets stay until their own timeout (nothing here removes them).
  for (int i = 1; i <= 5; ++i) {
    const seatlock::UnixMillis at = 30'000 + i * RefreshSchedule::kMaxRetryMs;
    CHECK(s.take_due(at - 1).empty());
    CHECK(s.take_due(at) == Names{"collector.example.net"});
  }
  // The answer comes: back to half its lifetime.
  s.answered("collector.example.net", 60'000, 60'000);
  CHECK(s.due_at("collector.example.net") == 90'000);
}

TEST_CASE("a policy reload keeps the schedule of a kept name and forgets the others", "[dns]") {
  RefreshSchedule s;
  s.set_names({"a.example.net"}, 0);
  s.answered("a.example.net", 100'000, 0);
  s.set_names({"a.example.net", "b.example.net"}, 10'000);
  CHECK(s.due_at("a.example.net") == 50'000);  // not looked up again just for the reload
  CHECK(s.due_at("b.example.net") == 10'000);  // new: at once
  s.set_names({}, 20'000);
  CHECK_FALSE(s.contains("a.example.net"));
  CHECK(s.take_due(100'000).empty());
}
