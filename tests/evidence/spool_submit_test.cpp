// Spool::submit(): queueing without waiting for the disk, and Pending::wait() for durability.
#include <catch2/catch.hpp>

#include "spool_helpers.hpp"

using namespace seatlock;
using seatlock::test::chain_problem;
using seatlock::test::draft;
using seatlock::test::TempDir;

TEST_CASE("submit() queues without waiting, and wait() returns the events durable and in order",
          "[spool]") {
  TempDir dir("submit");
  std::string path = dir.file("spool.db");
  std::vector<std::uint64_t> seqs;
  std::size_t submitted = 0;
  {
    Spool spool(path);
    std::vector<Spool::Pending> pending;
    for (int i = 0; i < 20; ++i) {
      std::vector<Event> batch;
      for (int k = 0; k <= i % 3; ++k) batch.push_back(draft("net.tamper", "high", i));
      submitted += batch.size();
      pending.push_back(spool.submit(std::move(batch)));
    }
    for (auto& p : pending)
      for (const Event& e : p.wait()) seqs.push_back(e.seq);
    Event bad = draft("usb.blocked", "high");
    bad.details = {{"product", std::string("\xff bad utf8")}};
    CHECK_THROWS_AS(spool.submit({bad}), EventRejected);
    // Left unwaited: the spool still stores it (the Pending waits when it goes).
    auto last = spool.submit({draft("agent.stopping")});
  }
  REQUIRE(seqs.size() == submitted);
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  SpoolReader reader(path);
  auto rows = reader.query({});
  REQUIRE(rows.size() == submitted + 1);
  CHECK(rows.back().kind == "agent.stopping");
  CHECK(chain_problem(rows) == "");
}

TEST_CASE(
    "drafts prepared outside a lock are stored when submitted, and rejected ones stay "
    "with the caller",
    "[spool]") {
  TempDir dir("prepare");
  Spool spool(dir.file("spool.db"));
  std::vector<Event> bad{draft("usb.blocked", "high", 1)};
  bad.front().details = {{"product", std::string("\xff bad utf8")}};
  CHECK_THROWS_AS(spool.prepare(bad), EventRejected);
  REQUIRE(bad.size() == 1);  // not lost: the caller can repair it and try again
  bad.front().details = {{"product", "fixed"}};

  std::vector<Event> later{draft("net.tamper", "high", 2)};
  auto first = spool.prepare(bad);
  CHECK(bad.empty());
  auto second = spool.prepare(later);
  // Queue order decides the seqs, not the order they were prepared in.
  auto p2 = spool.submit(std::move(second));
  auto p1 = spool.submit(std::move(first));
  auto stored2 = p2.wait();
  auto stored1 = p1.wait();
  CHECK(stored2.front().seq == 1);
  CHECK(stored1.front().seq == 2);
  CHECK(stored1.front().details["product"] == "fixed");
  CHECK(chain_problem(spool.query({})) == "");
}
