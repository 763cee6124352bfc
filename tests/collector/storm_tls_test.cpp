// The lean storm client (storm_tls_client.hpp, what bench/collector/storm_bench runs 10,000
// seats with) must play the same storm as the agent-faithful libcurl one of storm_test.cpp:
// budgets overrun so that seats are told 503 with Retry-After and wait in the listen backlog,
// and still every seat ends with its backlog stored exactly once and no failed connection.
#include <catch2/catch.hpp>

#include "storm_client.hpp"

using namespace seatlock::testing;

TEST_CASE("the lean TLS storm client absorbs a 500-seat storm like the agent's sender",
          "[collector][storm]") {
  StormOptions o;
  o.seats = 500;
  o.client = StormClient::tls;
  o.batch_events = 10;  // two POSTs per seat: a new connection and full handshake for each
  o.serve_args = {"--max-unauthenticated", "64", "--max-unauthenticated-per-address", "8",
                  "--max-pending",         "300"};  // as storm_test.cpp: the writer queue overflows
  o.give_up_s = 50;
  StormResult r = run_storm(o);
  INFO(r.summary());
  CHECK(r.client == "tls");
  CHECK(r.seats_done == r.seats);
  CHECK(r.transport_error_total == 0);
  CHECK(r.by_status[200] == 2 * r.seats);  // each batch acknowledged once ...
  CHECK(r.connections == r.transport_error_total + [&] {
    std::size_t n = 0;
    for (const auto& [status, count] : r.by_status) n += count;
    return n;
  }());  // ... and every connection ended in an answer or a counted failure
  CHECK(r.only_200_429_503());
  CHECK(r.without_retry_after == 0);
  CHECK(r.stored_exactly_once());
  CHECK(r.verify_exit == 0);
}
