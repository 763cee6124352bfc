// "Internet off" from the center, end to end with real processes in network namespaces: the
// seat (seatlockd with network + delivery, seat id from its policy file) in one namespace, a
// real `seatlock-collector serve --bundles` and the site's services in the "remote" one
// (tests/net/netns_lab.hpp). A closure published for the seat's group closes the seat within
// seconds (essential services and the collector still reachable), is acknowledged with the
// bundle version, and opens again; a closure with an end reopens by the seat's own timer with
// the collector down; a fleet network grant works and then expires on the seat.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "../net/netns_lab.hpp"
#include "os/base/clock.hpp"
#include "os/control/control_server.hpp"
#include "seat_fleet.hpp"

using namespace seatlock;
using namespace seatlock::fleet_test;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;
namespace nt = seatlock::nettest;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSeat = "par-0201";
constexpr const char* kCollectorAddr = "10.99.0.2";
constexpr const char* kEssential = "10.99.0.80";  // the CRM, port 8080 (marked essential)
constexpr const char* kWeb = "10.99.0.54";        // an allowed but non-essential service, 9090

// The site allowlist as IT writes it in the tree: the CRM essential, the web not.
constexpr const char* kSite = R"({"network": {"allow": [
  {"to": "10.99.0.80/32", "ports": [8080], "proto": "tcp", "essential": true, "comment": "CRM"},
  {"to": "10.99.0.54/32", "ports": [9090], "proto": "tcp", "comment": "intranet"}]}})";

std::string rfc3339_in(int seconds) {
  return format_rfc3339_ms(now_millis() + seconds * 1000LL);
}

// seatlock-collector serve inside the lab's remote namespace, on 10.99.0.2 (its certificate
// names that address).
struct RemoteCollector {
  pid_t pid = -1;
  int port = 0;
  RemoteCollector(const nt::NetLab& lab, const tg::Pki& pki, const std::string& cert,
                  const std::string& key, const std::string& db, const std::string& bundles,
                  int want_port = 0) {
    std::vector<std::string> argv = {"/usr/sbin/ip",
                                     "netns",
                                     "exec",
                                     lab.remote(),
                                     tg::collector_binary(),
                                     "serve",
                                     "--listen",
                                     std::string(kCollectorAddr) + ":" + std::to_string(want_port),
                                     "--db",
                                     db,
                                     "--cert",
                                     cert,
                                     "--key",
                                     key,
                                     "--ca",
                                     pki.ca,
                                     "--bundles",
                                     bundles};
    tg::SpawnedProcess child = tg::spawn_reading_stdout(std::move(argv));
    pid = child.pid;
    FILE* f = child.out;
    char line[256] = {};
    const bool ok = fgets(line, sizeof line, f) != nullptr;
    fclose(f);
    const std::string s = line;
    INFO("collector said: " << s);
    REQUIRE(ok);
    REQUIRE(s.rfind("listening ", 0) == 0);
    port = std::atoi(s.c_str() + s.rfind(':') + 1);
  }
  ~RemoteCollector() { stop(); }
  void stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
  std::string url() const {
    return "https://" + std::string(kCollectorAddr) + ":" + std::to_string(port) + "/v1/events";
  }
};

// One seat in the lab following one fleet.
struct Rig {
  tg::TempDir tmp;
  tg::Pki pki{tmp};
  tg::Pki::Pair cert = pki.seat(kSeat);
  nt::NetLab lab;
  FleetHost fleet{tmp};
  std::string db = tmp / "collector.db";
  std::string server_cert = tmp / "server-remote.pem", server_key = tmp / "server-remote.key";
  std::unique_ptr<RemoteCollector> collector;
  pid_t daemon = -1;

  Rig() {
    // The collector's certificate for the address the seat dials (same CA as the test PKI).
    nt::must("cd " + tmp.path +
             " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
             "server-remote.key -out server-remote.csr -subj /CN=collector.test 2>/dev/null && "
             "printf 'subjectAltName=IP:10.99.0.2\\n' > server-remote.ext && openssl x509 -req "
             "-in server-remote.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out "
             "server-remote.pem -days 2 -extfile server-remote.ext 2>/dev/null");
    fleet.put(
        "groups.json",
        R"({"seats": ["par-0201", "lyo-0001"], "groups": [{"name": "floor-2", "match": ["par-02??"]}]})");
    fleet.put("all/10-site.json", kSite);
    std::filesystem::create_directories(fleet.bundles);
    start_collector();
    // As IT installs a seat: the shipped default, and 90-seat.json with the seat id, the
    // collector, its certificate and the pinned fleet key. No allow entry for the collector.
    lab.write_policy("00-default.json", {{"firmware", {{"mode", "audit"}}}});
    json report = seat_report(collector->url(), pki, cert, {fleet.pub()});
    report["seat_id"] = kSeat;
    lab.write_policy("90-seat.json", {{"report", report}});
  }
  ~Rig() { stop_daemon(); }

  void start_collector(int port = 0) {
    collector = std::make_unique<RemoteCollector>(lab, pki, server_cert, server_key, db,
                                                  fleet.bundles, port);
  }
  void start_daemon() {
    std::vector<std::string> argv = {std::string(SEATLOCK_BINARY_DIR) + "/agent/daemon/seatlockd",
                                     "--policy-dir",
                                     lab.policy_dir(),
                                     "--state-dir",
                                     lab.state_dir(),
                                     "--control-socket",
                                     lab.socket(),
                                     "--components",
                                     "network,delivery",
                                     "--netns",
                                     lab.seat()};
    daemon = fork();
    if (daemon == 0) {
      int fd = open((lab.dir() + "/daemon.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> av;
      for (auto& a : argv) av.push_back(a.data());
      av.push_back(nullptr);
      execv(av[0], av.data());
      _exit(127);
    }
    const bool ready = t::wait_until(
        [&] {
          auto r = lab.ctl("--json net status");
          return r.status == 0 && r.out.find("\"running\"") != std::string::npos;
        },
        15'000);
    INFO(lab.daemon_log());
    REQUIRE(ready);
  }
  void stop_daemon() {
    if (daemon <= 0) return;
    kill(daemon, SIGTERM);
    waitpid(daemon, nullptr, 0);
    daemon = -1;
  }

  std::uint64_t version_in_force() {
    json p = control_call(lab.socket(), "status", json::object(), 10'000)["policy"];
    return p.contains("fleet") ? p["fleet"]["version"].get<std::uint64_t>() : 0;
  }
  bool publish_reaches_seat(std::uint64_t version) {
    fleet.publish();
    return t::wait_until([&] { return version_in_force() == version; }, 20'000);
  }
  std::vector<json> at_collector(const std::string& kind) {
    std::vector<json> out;
    for (const auto& r : evidence::collector_rows(db, kSeat))
      if (r.value("kind", "") == kind) out.push_back(r);
    return out;
  }
  bool acked(std::uint64_t version) {
    return !with_fleet_version(evidence::collector_rows(db, kSeat), "policy.applied", version)
                .empty();
  }
  // The seat's own view of its egress (as root in the seat namespace).
  bool web() const { return lab.tcp_ok("", kWeb, 9090); }
  bool crm() const { return lab.tcp_ok("", kEssential, 8080); }
  // A TCP connect (the collector speaks TLS, not the probe's echo).
  bool collector_reachable() const {
    return lab.in_seat("timeout 2 bash -c '</dev/tcp/" + std::string(kCollectorAddr) + "/" +
                       std::to_string(collector->port) + "'")
               .status == 0;
  }
  // "set inet seatlock ess4", "chain inet seatlock allow_out", ... as the kernel holds it.
  std::string nft_list(const std::string& what) const {
    return nt::sh("ip netns exec " + lab.seat() + " nft list " + what).out;
  }
};

}  // namespace

TEST_CASE(
    "a closure published for the seat's group closes it within seconds, keeps essential "
    "services and the collector, is acknowledged, and opening restores it",
    "[fleet][netns][e2e]") {
  Rig rig;
  rig.start_daemon();
  REQUIRE(rig.publish_reaches_seat(1));
  REQUIRE(rig.web());
  REQUIRE(rig.crm());

  rig.fleet.put(
      "groups/floor-2/95-net-closed.json",
      json{{"network",
            {{"closed", {{"ticket", "CHG-7"}, {"by", "alice"}, {"since", rfc3339_in(0)}}}}}}
          .dump());
  const auto t0 = Clock::now();
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return !rig.web(); }, 15'000));
  const auto closed_after = Clock::now() - t0;
  CHECK(closed_after < std::chrono::seconds(5));
  CHECK(rig.crm());                  // essential
  CHECK(rig.collector_reachable());  // the management path
  // Closed, the allowlist rules look only in the essential sets, which lack the web entry.
  const std::string allow_out = rig.nft_list("chain inet seatlock allow_out");
  CHECK(allow_out.find("@ess4") != std::string::npos);
  CHECK(allow_out.find("@base4") == std::string::npos);
  CHECK(rig.nft_list("set inet seatlock ess4").find(kWeb) == std::string::npos);
  CHECK(rig.nft_list("set inet seatlock ess4").find(kEssential) != std::string::npos);
  REQUIRE(t::wait_until([&] { return rig.acked(2); }, 20'000));

  json s = rig.lab.net_status();
  CHECK(s["closed"] == true);
  CHECK(s["local_closed"] == false);
  REQUIRE(s["closed_by"].size() == 1);
  CHECK(s["closed_by"][0]["ticket"] == "CHG-7");
  CHECK(s["closed_by"][0]["by"] == "alice");
  CHECK(s["closed_by"][0]["fleet"] == true);
  CHECK(s["closed_by"][0]["source"] == "fleet/groups/floor-2/95-net-closed.json");
  CHECK(rig.lab.ctl("net status")
            .out.find("closed by:   fleet ticket CHG-7, by alice, until "
                      "opened (fleet/groups/floor-2/95-net-closed.json)") != std::string::npos);
  REQUIRE(t::wait_until([&] { return !rig.at_collector("net.closed").empty(); }, 20'000));
  json closed = rig.at_collector("net.closed").back()["details"];
  CHECK(closed["reason"] == "policy");
  CHECK(closed["ticket"] == "CHG-7");
  CHECK(closed["suspended_allow_entries"] == 1);

  // A local `net open` cannot lift the fleet's closure.
  rig.lab.ctl("net open");
  CHECK_FALSE(rig.web());

  std::filesystem::remove(rig.fleet.tree + "/groups/floor-2/95-net-closed.json");
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return rig.web(); }, 15'000));
  CHECK(rig.version_in_force() == 3);
  REQUIRE(t::wait_until([&] { return !rig.at_collector("net.opened").empty(); }, 20'000));
  json opened = rig.at_collector("net.opened").back()["details"];
  CHECK(opened["reason"] == "policy");
  CHECK(opened["ticket"] == "CHG-7");
  REQUIRE(t::wait_until([&] { return rig.acked(3); }, 20'000));
}

TEST_CASE("a closure with an end reopens the seat by its own timer while the collector is down",
          "[fleet][netns][e2e]") {
  Rig rig;
  const std::string until = rfc3339_in(12);
  rig.fleet.put("groups/floor-2/95-net-closed.json",
                json{{"network", {{"closed", {{"ticket", "STORM-1"}, {"until", until}}}}}}.dump());
  rig.start_daemon();
  REQUIRE(rig.publish_reaches_seat(1));
  CHECK_FALSE(rig.web());
  CHECK(rig.crm());
  CHECK(rig.lab.net_status()["closed_by"][0]["until"] == until);
  REQUIRE(t::wait_until([&] { return rig.acked(1); }, 20'000));

  rig.collector->stop();  // offline from here on
  REQUIRE(t::wait_until([&] { return rig.web(); }, 20'000));
  CHECK(now_millis() >= *parse_rfc3339(until));
  CHECK(rig.lab.net_status()["closed"] == false);
  CHECK(rig.lab.wait_event(
      "net.opened",
      [](const json& e) {
        return e["details"].value("reason", "") == "expired" &&
               e["details"].value("ticket", "") == "STORM-1";
      },
      5'000));
}

TEST_CASE("a fleet network grant admits its user, then expires on the seat by its own timer",
          "[fleet][netns][e2e]") {
  Rig rig;
  const std::string until = rfc3339_in(12);
  rig.fleet.put(
      std::string("seats/") + kSeat + "/85-grant-net-NET-42.json",
      json{{"network",
            {{"exceptions",
              {{{"users", {nt::kUserA}},
                {"allow", {{{"to", "10.99.0.54/32"}, {"ports", {443}}, {"proto", "tcp"}}}},
                {"until", until},
                {"ticket", "NET-42"}}}}}}}
          .dump());
  rig.start_daemon();
  REQUIRE(rig.publish_reaches_seat(1));
  CHECK(rig.lab.tcp_ok(nt::kUserA, kWeb, 443));
  CHECK_FALSE(rig.lab.tcp_ok(nt::kUserB, kWeb, 443));  // the grant is for one user

  REQUIRE(t::wait_until([&] { return !rig.lab.tcp_ok(nt::kUserA, kWeb, 443); }, 20'000));
  CHECK(now_millis() >= *parse_rfc3339(until));
  CHECK(rig.lab.wait_event(
      "net.exception_expired",
      [](const json& e) { return e["details"].value("ticket", "") == "NET-42"; }, 5'000));
  REQUIRE(
      t::wait_until([&] { return !rig.at_collector("net.exception_expired").empty(); }, 20'000));
}
