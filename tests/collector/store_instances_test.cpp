// Several collector instances on one ClickHouse: seats upload through two instances, one is
// SIGKILLed while batches are in flight, the seats retry those batches on the other. Every
// event must be stored once and `verify` must see one continuous chain per seat.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "clickhouse_only.hpp"
#include "core/event/event.hpp"
#include "harness.hpp"
#include "store_fixture.hpp"
#include "support/process.hpp"

using namespace seatlock;
using namespace seatlock::testing;

TEST_CASE(
    "two instances on one ClickHouse: one killed mid-batch, retries land on the other, "
    "every event stored once and verify clean",
    "[collector][store][clickhouse]") {
  if (!clickhouse_available()) return;
  TempDir dir;
  Pki pki(dir);
  TestStore store("clickhouse", dir);
  auto a = std::make_unique<StoreCollector>(store.spec, pki);
  StoreCollector b(store.spec, pki);
  const std::string url_a = a->url(), url_b = b.url();

  constexpr int kSeats = 6, kBatches = 10, kPerBatch = 300;
  struct SeatPlan {
    std::string id;
    Pki::Pair cert;
    std::vector<Post> posts;
  };
  std::vector<SeatPlan> seats;
  for (int s = 0; s < kSeats; ++s) {
    SeatSim sim("cc-multi-" + std::to_string(s));
    SeatPlan p{sim.seat_id(), pki.seat(sim.seat_id()), {}};
    UnixMillis t = now_ms() - 3600'000;
    for (int i = 0; i < kBatches; ++i)
      p.posts.push_back(sim.post(sim.make(kPerBatch, "usb.blocked", "high", t + i * kPerBatch, 1)));
    seats.push_back(std::move(p));
  }

  std::atomic<int> in_flight_a{0}, failed_on_a{0}, retried_on_b{0}, already_stored_by_a{0};
  std::atomic<bool> a_dead{false};
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kSeats);
  for (int s = 0; s < kSeats; ++s) {
    threads.emplace_back([&, s] {
      const SeatPlan& p = seats[s];
      for (int i = 0; i < kBatches; ++i) {
        // Even batches go to instance A while it lives, odd ones to B (a load balancer).
        bool to_a = i % 2 == 0 && !a_dead;
        long status = 0;
        if (to_a) {
          ++in_flight_a;
          status = post_events(url_a, pki.ca, {p.cert.cert, p.cert.key, ""}, p.posts[i]).status;
          --in_flight_a;
          if (status == 200) continue;
          ++failed_on_a;  // A died with this batch in flight: the seat retries it on B
        }
        for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
          HttpResult r = post_events(url_b, pki.ca, {p.cert.cert, p.cert.key, ""}, p.posts[i]);
          status = r.status;
          if (!to_a) continue;
          ++retried_on_b;
          // A stored (part of) the batch before it died: B acknowledges those as duplicates.
          if (status == 200 && nlohmann::json::parse(r.body).value("duplicates", 0) > 0)
            ++already_stored_by_a;
        }
        if (status != 200) {
          errors[s] =
              "batch " + std::to_string(i) + " not accepted by B: " + std::to_string(status);
          return;
        }
      }
    });
  }
  // Kill A once some events are in ClickHouse and a batch is in flight on A.
  bool killed = seatlock::test::wait_until(
      [&] {
        if (in_flight_a == 0) return false;
        if (store.ch("SELECT count() FROM " + store.database + ".events") == "0\n") return false;
        if (in_flight_a == 0) return false;
        a_dead = true;
        a->stop(SIGKILL);
        return true;
      },
      60'000);
  for (auto& t : threads) t.join();
  REQUIRE(killed);
  for (const auto& e : errors) CHECK(e.empty());
  INFO("batches cut on A: " << failed_on_a << ", retries on B: " << retried_on_b
                            << ", of which A had already stored: " << already_stored_by_a);
  CHECK(failed_on_a >= 1);

  const std::size_t total = kSeats * kBatches * kPerBatch;
  // Each event once, whatever copies the two instances wrote before merging.
  CHECK(store.ch("SELECT count(), uniqExact(id) FROM " + store.database + ".events FINAL") ==
        std::to_string(total) + "\t" + std::to_string(total) + "\n");
  CliResult q = run_cli({"query", "--store", store.spec, "--json"});
  REQUIRE(q.exit_code == 0);
  std::set<std::string> ids;
  std::istringstream in(q.out);
  std::size_t n = 0;
  std::size_t unparsed = 0;
  for (std::string line; std::getline(in, line); ++n) {
    Event e;
    if (event_from_json(nlohmann::json::parse(line), e).empty())
      ids.insert(e.id);
    else
      ++unparsed;
  }
  CHECK(unparsed == 0);
  CHECK(n == total);
  CHECK(ids.size() == total);

  CliResult v = run_cli({"verify", "--store", store.spec});
  INFO(v.out);
  CHECK(v.exit_code == 0);
  for (const SeatPlan& p : seats)
    CHECK(v.out.find("seat " + p.id + ": ok, " + std::to_string(kBatches * kPerBatch) +
                     " events (seq 1.." + std::to_string(kBatches * kPerBatch) + ")") !=
          std::string::npos);
  CHECK(v.out.find("0 problems in 0 seats, 0 open ingest findings") != std::string::npos);
  CHECK(b.stop() == 0);
}

TEST_CASE("while ClickHouse is down batches are answered 503 and nothing is lost when it is back",
          "[collector][store][clickhouse]") {
  if (!clickhouse_available()) return;
  ClickHouseServer own;  // a server of its own: this test stops it
  TempDir dir;
  Pki pki(dir);
  std::string spec = "clickhouse:" + own.url() + "/?database=outage";
  StoreCollector c(spec, pki);
  SeatSim s("cc-outage");
  auto cert = pki.seat("cc-outage");
  auto ev = s.make(30);
  auto post = [&](std::size_t from, std::size_t to) {
    std::vector<Event> part(ev.begin() + from, ev.begin() + to);
    return post_events(c.url(), pki.ca, {cert.cert, cert.key, ""}, s.post(part));
  };
  REQUIRE(post(0, 10).status == 200);
  own.stop();
  HttpResult down = post(10, 20);
  INFO(down.body);
  CHECK(down.status == 503);  // not acknowledged: the seat keeps the batch and retries
  own.restart();
  CHECK(post(10, 20).status == 200);
  CHECK(post(20, 30).status == 200);
  CliResult v = run_cli({"verify", "--store", spec});
  INFO(v.out);
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("seat cc-outage: ok, 30 events (seq 1..30)") != std::string::npos);
}
