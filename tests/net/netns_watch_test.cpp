// Watching end to end in network namespaces: tampering with the tables, address/route/link
// changes, and a flood of denied packets. Needs root.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "netns_lab.hpp"
#include "support/process_wait.hpp"

using namespace seatlock::nettest;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
  return long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

}  // namespace

TEST_CASE("nft flush ruleset in the seat namespace is reverted within a second and reported",
          "[net][netns]") {
  NetLab lab;
  lab.write_policy("50-lab.json", lab_policy());
  lab.start_daemon();
  // The owned table refuses other processes outright.
  CmdResult del = lab.in_seat("nft delete table inet seatlock");
  CHECK(del.status != 0);

  auto t0 = Clock::now();
  must("ip netns exec " + lab.seat() + " nft flush ruleset");
  bool back = false;
  while (ms_since(t0) < 1000 && !back)
    back = lab.in_seat("nft list chain inet seatlock_fallback output").status == 0;
  CHECK(back);
  CHECK(ms_since(t0) < 1000);
  CHECK(lab.wait_event(
      "net.tamper",
      [](const json& e) {
        const json& d = e["details"];
        return d["process"] == "nft" && d["pid"].get<long>() > 0 && e["outcome"] == "reverted" &&
               e["severity"] == "critical";
      },
      2000));

  // A rule slipped into the fallback table is removed again.
  must("ip netns exec " + lab.seat() + " nft insert rule inet seatlock_fallback output accept");
  std::string chain;
  CHECK(seatlock::test::wait_until(
      [&] {
        chain =
            sh("ip netns exec " + lab.seat() + " nft list chain inet seatlock_fallback output").out;
        return chain.find("policy drop;") != std::string::npos &&
               chain.find("policy drop;\n\t\taccept") == std::string::npos;
      },
      2000));
  INFO(chain);
  CHECK(seatlock::test::wait_until([&] { return lab.events("net.tamper").size() >= 2; }, 2000));
  CHECK_FALSE(lab.tcp_ok(kUserA, "10.99.0.80", 443));
}

TEST_CASE("a foreign address, a new default route and a new interface are each reported",
          "[net][netns]") {
  NetLab lab;
  lab.write_policy("50-lab.json", lab_policy());
  lab.start_daemon();

  must("ip -n " + lab.seat() + " addr add 10.99.0.77/24 dev sl0");
  CHECK(lab.wait_event(
      "net.address_changed",
      [](const json& e) {
        const json& d = e["details"];
        return d["address"] == "10.99.0.77/24" && d["action"] == "added" &&
               d["is_planned"] == false && d["planned"] == "10.99.0.1/24" &&
               e["severity"] == "high";
      },
      2000));
  // Traffic from the unplanned source is dropped even to an allowed destination.
  CHECK(lab.in_seat(lab.probe() + " --src 10.99.0.1 tcp 10.99.0.2 8080 700", kUserA).status == 0);
  CHECK(lab.in_seat(lab.probe() + " --src 10.99.0.77 tcp 10.99.0.2 8080 700", kUserA).status != 0);
  CHECK(lab.wait_event(
      "net.egress_denied",
      [](const json& e) {
        return e["details"]["reason"] == "source-address" && e["details"]["saddr"] == "10.99.0.77";
      },
      3000));

  must("ip -n " + lab.seat() + " route add default via 10.99.0.2");
  CHECK(lab.wait_event(
      "net.route_changed",
      [](const json& e) {
        const json& d = e["details"];
        return d["action"] == "added" && d["gateway"] == "10.99.0.2" && d["interface"] == "sl0";
      },
      2000));

  // (this kernel has no dummy module; a veth pair stands in for a USB tether)
  must("ip -n " + lab.seat() + " link add sltether0 type veth peer name sltether1");
  CHECK(lab.wait_event(
      "net.interface_added",
      [](const json& e) {
        return e["details"]["interface"] == "sltether0" && e["details"]["kind"] == "veth";
      },
      2000));
}

TEST_CASE("a flood of 100,000 denied packets yields a bounded, aggregated event count",
          "[net][netns]") {
  NetLab lab;
  lab.write_policy("50-lab.json", lab_policy());
  lab.start_daemon();
  const std::size_t before = lab.events().size();

  auto t0 = Clock::now();
  CmdResult flood = lab.in_seat(lab.probe() + " flood 10.99.0.80 5353 100000", kUserA);
  const double seconds = ms_since(t0) / 1000.0;
  INFO(flood.out);
  REQUIRE(flood.status == 0);
  // A marker packet after the flood lands in the last window that can hold flood packets (or a
  // later one); windows are reported whole, the flood's group (port 5353) before the marker's
  // (5354). So once the marker is reported, every flood window is. It is re-sent until logged:
  // the flood has emptied the log limit's bucket.
  auto flood_key = [](const json& e) {
    return e["details"].value("daddr", "") == "10.99.0.80" &&
           e["details"].value("dport", 0) == 5353;
  };
  auto marker_events = [&] {
    std::size_t n = 0;
    for (const auto& e : lab.events("net.egress_denied"))
      n +=
          e["details"].value("daddr", "") == "10.99.0.80" && e["details"].value("dport", 0) == 5354;
    return n;
  };
  CHECK(seatlock::test::wait_until(
      [&] {
        lab.in_seat(lab.probe() + " udp 10.99.0.80 5354 50", kUserA);
        return marker_events() > 0;
      },
      5000));

  std::uint64_t logged = 0;
  std::size_t flood_events = 0;
  for (const auto& e : lab.events("net.egress_denied")) {
    if (!flood_key(e)) continue;
    ++flood_events;
    logged += e["details"]["count"].get<std::uint64_t>();
  }
  INFO("flood took " << seconds << " s, " << flood_events << " events, " << logged
                     << " packets logged");
  CHECK(flood_events >= 1);
  CHECK(flood_events <= std::size_t(seconds) + 3);  // one per 1 s window
  CHECK(logged >= 5);
  CHECK(logged <= 50 * (seconds + 2) + 5);  // limit rate 50/second, burst 5
  CHECK(lab.events().size() - before - marker_events() <= flood_events + 2);

  json counters = lab.net_status()["counters"]["seatlock"];
  CHECK(counters["denied"]["packets"].get<std::uint64_t>() >= 100'000);
}
