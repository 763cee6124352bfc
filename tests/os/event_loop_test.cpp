// os/base/event_loop: the sd-event RAII layer and the add-or-rearm timer, on a real loop.
#include "os/base/event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

using seatlock::add_io_source;
using seatlock::EventLoop;
using seatlock::EventSource;
using seatlock::OneShotTimer;

namespace {

EventLoop new_loop() {
  sd_event* e = nullptr;
  REQUIRE(sd_event_new(&e) >= 0);
  return EventLoop(e);
}

// Runs `loop` until something calls sd_event_exit, or fails the test after `limit_ms`.
void run_until_exit(sd_event* loop, int limit_ms = 5000) {
  bool timed_out = false;
  OneShotTimer guard(loop, CLOCK_MONOTONIC, 1000, "test guard", [&](std::uint64_t) {
    timed_out = true;
    sd_event_exit(loop, 0);
  });
  REQUIRE(guard.arm_in(std::uint64_t(limit_ms) * 1000) == 0);
  REQUIRE(sd_event_loop(loop) >= 0);
  REQUIRE_FALSE(timed_out);
}

// Runs `loop` for `ms` of its own time: what is due in that window is dispatched.
void run_for(sd_event* loop, int ms) {
  OneShotTimer stop(loop, CLOCK_MONOTONIC, 1000, "test stop",
                    [&](std::uint64_t) { sd_event_exit(loop, 0); });
  REQUIRE(stop.arm_in(std::uint64_t(ms) * 1000) == 0);
  REQUIRE(sd_event_loop(loop) >= 0);
}

int no_io(sd_event_source*, int, uint32_t, void*) {
  return 0;
}

}  // namespace

TEST_CASE("a one-shot timer fires, re-arms itself from its handler and fires again",
          "[event_loop]") {
  EventLoop loop = new_loop();
  int fired = 0;
  std::uint64_t last_due = 0;
  OneShotTimer timer(loop.get(), CLOCK_MONOTONIC, 1, "test timer", [&](std::uint64_t due) {
    ++fired;
    CHECK(due > last_due);
    last_due = due;
    if (fired < 3)
      CHECK(timer.arm_in(2000) == 0);
    else
      sd_event_exit(loop.get(), 0);
  });
  CHECK_FALSE(timer.armed());
  REQUIRE(timer.arm_in(2000) == 0);
  CHECK(timer.armed());
  run_until_exit(loop.get());
  CHECK(fired == 3);
  CHECK_FALSE(timer.armed());  // one shot: off once it fired and nobody re-armed it
}

TEST_CASE("re-arming a timer moves its deadline instead of adding a second one", "[event_loop]") {
  // One loop per section: a loop that has exited refuses new deadlines (-ESTALE).
  EventLoop loop = new_loop();
  int fired = 0;
  OneShotTimer timer(loop.get(), CLOCK_MONOTONIC, 1, "test timer", [&](std::uint64_t) {
    ++fired;
    sd_event_exit(loop.get(), 0);
  });

  SECTION("the last arm wins") {
    REQUIRE(timer.arm_in(3'600'000'000ULL) == 0);  // an hour away
    REQUIRE(timer.arm_in(1000) == 0);              // now 1 ms away
    run_until_exit(loop.get());
    CHECK(fired == 1);
  }
  SECTION("arm_in_unless_armed leaves an armed deadline alone") {
    REQUIRE(timer.arm_in(3'600'000'000ULL) == 0);
    REQUIRE(timer.arm_in_unless_armed(1000) == 0);
    run_for(loop.get(), 50);
    CHECK(fired == 0);  // still an hour away
    CHECK(timer.armed());
  }
  SECTION("a disarmed timer does not fire") {
    REQUIRE(timer.arm_in(1000) == 0);
    timer.disarm();
    CHECK_FALSE(timer.armed());
    run_for(loop.get(), 50);
    CHECK(fired == 0);
  }
  SECTION("a loop that has finished refuses to re-arm, and says so") {
    REQUIRE(timer.arm_in(1000) == 0);
    run_until_exit(loop.get());
    REQUIRE(fired == 1);
    CHECK(timer.arm_in(1000) == -ESTALE);
    CHECK_FALSE(timer.armed());
  }
}

TEST_CASE("a timer that goes out of scope is released and never fires", "[event_loop]") {
  EventLoop loop = new_loop();
  int fired = 0;
  {
    OneShotTimer timer(loop.get(), CLOCK_MONOTONIC, 1, "short-lived",
                       [&](std::uint64_t) { ++fired; });
    REQUIRE(timer.arm_in(1000) == 0);
  }
  run_for(loop.get(), 50);
  CHECK(fired == 0);
}

TEST_CASE("an io source is named and gives its fd back to the loop when released", "[event_loop]") {
  EventLoop loop = new_loop();
  int p[2];
  REQUIRE(pipe(p) == 0);
  {
    EventSource src = add_io_source(loop.get(), p[0], EPOLLIN, no_io, nullptr, "test pipe");
    const char* name = nullptr;
    REQUIRE(sd_event_source_get_description(src.get(), &name) >= 0);
    CHECK(std::string(name) == "test pipe");
    // The same fd twice is refused by epoll; the error names the source and the reason.
    CHECK_THROWS_WITH(
        add_io_source(loop.get(), p[0], EPOLLIN, no_io, nullptr, "second watch"),
        Catch::Contains("second watch: cannot watch fd") && Catch::Contains(strerror(EEXIST)));
  }
  // Released: the fd can be watched again.
  CHECK_NOTHROW(add_io_source(loop.get(), p[0], EPOLLIN, no_io, nullptr, "again"));
  close(p[0]);
  close(p[1]);
}

TEST_CASE("a timer sd-event refuses reports the error and stays disarmed", "[event_loop]") {
  EventLoop loop = new_loop();
  int fired = 0;
  // sd-event has no timers on per-thread CPU time: every call fails with -EOPNOTSUPP.
  OneShotTimer timer(loop.get(), CLOCK_THREAD_CPUTIME_ID, 1, "unsupported clock",
                     [&](std::uint64_t) { ++fired; });
  CHECK(timer.arm_in(1000) == -EOPNOTSUPP);
  CHECK(timer.arm_at(1000) == -EOPNOTSUPP);
  CHECK_FALSE(timer.armed());
  run_for(loop.get(), 20);
  CHECK(fired == 0);
}
