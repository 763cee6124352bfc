// The spool's bound (report.spool_max): what goes first, and that every loss is recorded.
#include <catch2/catch.hpp>
#include <set>

#include "spool_helpers.hpp"

using namespace seatlock;
using seatlock::test::chain_problem;
using seatlock::test::draft;
using seatlock::test::TempDir;

namespace {

struct Overview {
  std::set<std::uint64_t> present;
  std::set<std::uint64_t> recorded_lost;  // union of every spool.overflow range
  std::uint64_t recorded_violations = 0;
  std::uint64_t overflow_events = 0;
  std::uint64_t size_sum = 0;
};

Overview look(Spool& spool) {
  Overview o;
  for (const auto& r : spool.query({})) {
    o.present.insert(r.seq);
    o.size_sum += r.body.size();
    if (r.kind != "spool.overflow") continue;
    ++o.overflow_events;
    auto d = nlohmann::json::parse(r.body).at("details");
    o.recorded_violations += d.at("violations").get<std::uint64_t>();
    std::uint64_t n = 0;
    for (auto& range : d.at("dropped"))
      for (auto s = range.at("first").get<std::uint64_t>();
           s <= range.at("last").get<std::uint64_t>(); ++s, ++n)
        o.recorded_lost.insert(s);
    CHECK(n == d.at("events").get<std::uint64_t>());
  }
  return o;
}

std::set<std::uint64_t> missing(const Overview& o, std::uint64_t head) {
  std::set<std::uint64_t> m;
  for (std::uint64_t s = 1; s <= head; ++s)
    if (!o.present.count(s)) m.insert(s);
  return m;
}

}  // namespace

TEST_CASE("overflow drops the oldest non-violations first and records exactly the lost ranges",
          "[spool][overflow]") {
  TempDir dir("overflow");
  const std::uint64_t kMax = 64 * 1024;
  Spool spool(dir.file("spool.db"), kMax);
  std::set<std::uint64_t> violations;
  for (int round = 0; round < 100; ++round) {
    std::vector<Event> batch;
    for (int k = 0; k < 10; ++k)
      batch.push_back(k == 3 ? draft("usb.blocked", "high", round)
                             : draft("agent.heartbeat", "info", round));
    for (auto& e : spool.append_batch(batch))
      if (e.kind == "usb.blocked") violations.insert(e.seq);
  }
  auto st = spool.stats();
  Overview o = look(spool);
  CHECK(o.overflow_events > 0);
  for (auto v : violations) CHECK(o.present.count(v) == 1);  // no violation lost
  CHECK(o.recorded_violations == 0);
  CHECK(missing(o, st.head_seq) == o.recorded_lost);  // every gap is recorded, nothing more
  CHECK(st.bytes == o.size_sum);
  CHECK(st.bytes <= kMax);
  CHECK(st.dropped == o.recorded_lost.size());
  CHECK(*o.recorded_lost.begin() == 1);  // the oldest went first
  CHECK(chain_problem(spool.query({})) == "");
}

TEST_CASE("delivered rows make room before anything queued is lost", "[spool][overflow]") {
  TempDir dir("overflow-delivered");
  Spool spool(dir.file("spool.db"), 32 * 1024);
  std::vector<Event> hb;
  for (int i = 0; i < 60; ++i) hb.push_back(draft("agent.heartbeat", "info", i));
  auto stored = spool.append_batch(hb);
  spool.mark_delivered(1, stored.back().seq);
  for (int i = 0; i < 60; ++i) spool.append(draft("usb.blocked", "high", i));
  Overview o = look(spool);
  CHECK(o.overflow_events == 0);
  CHECK(o.present.count(1) == 0);  // delivered heartbeats were reclaimed
  CHECK(spool.stats().queued == 60);
}

TEST_CASE("when only violations are left the oldest go, and the record says so",
          "[spool][overflow]") {
  TempDir dir("overflow-violations");
  const std::uint64_t kMax = 16 * 1024;
  Spool spool(dir.file("spool.db"), kMax);
  for (int r = 0; r < 20; ++r) {
    std::vector<Event> batch;
    for (int k = 0; k < 10; ++k) batch.push_back(draft("net.tamper", "critical", r * 10 + k));
    spool.append_batch(batch);
  }
  auto st = spool.stats();
  Overview o = look(spool);
  CHECK(o.recorded_violations > 0);
  CHECK(o.recorded_violations <= o.recorded_lost.size());
  CHECK(missing(o, st.head_seq) == o.recorded_lost);
  CHECK(st.bytes <= kMax);
  CHECK(o.present.count(st.head_seq) == 1);  // the newest evidence is kept
  for (const auto& r : spool.query({0, "spool.overflow", 0, 0})) CHECK(r.severity == "high");
}
