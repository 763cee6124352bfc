// A reconnect storm, scaled down to run in the default suite: every seat reconnects at the
// same moment after an outage and uploads its backlog, with the connection budgets and the
// writer queue scaled down so that both are overrun many times over. The storm must be
// absorbed with only 200, 429 and 503 answers (the last two with Retry-After), no failed
// connection, and every event stored exactly once (bench/collector/storm_bench runs 10,000).
#include <catch2/catch.hpp>

#include "storm_client.hpp"

using namespace seatlock::testing;

TEST_CASE("a reconnect storm of 500 seats is absorbed: only 200/429/503, each event stored once",
          "[collector][storm]") {
  StormOptions o;
  o.seats = 500;
  o.batch_events = 10;  // 20 events each: two POSTs, two connections per seat at least
  o.serve_args = {      // 1/16 of the defaults for a 10,000-seat site: the storm overruns them
                  "--max-unauthenticated", "64", "--max-unauthenticated-per-address", "8",
                  // The writer takes 300 events at a time: most seats are told 503 at first
                  "--max-pending", "300"};
  o.give_up_s = 50;
  StormResult r = run_storm(o);
  INFO(r.summary());
  CHECK(r.seats_done == r.seats);
  CHECK(r.transport_error_total == 0);  // a connect timeout or reset is a seat that failed
  CHECK(r.only_200_429_503());
  CHECK(r.without_retry_after == 0);
  CHECK(r.stored_exactly_once());
  CHECK(r.verify_exit == 0);
  WARN(r.summary());
}
