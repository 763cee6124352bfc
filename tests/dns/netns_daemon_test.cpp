// The DNS guard inside seatlockd, end to end in network namespaces (root; never the host's):
//   seat   sldd0 10.96.0.1/24  <->  remote sldd1 10.96.0.2/24 (+ .53 resolver, .80 .81 hosts)
// seatlockd runs in seat as IT deploys it (seat id from a policy file, --components
// network,delivery, no test flags) with a real collector on the seat's loopback, named by host
// name in report.collector (collector.example.test, not on the allowlist); dnsmasq, an HTTP
// server and an echo server run in remote. seatlockd and the clients in seat resolve through
// glibc with a resolv.conf naming the resolver (bind-mounted in the command's own mount
// namespace).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "harness.hpp"  // tests/collector: Pki, TempDir, run_cli
#include "support/process.hpp"

using namespace seatlock;
using nlohmann::json;
using seatlock::test::binary_path;
using seatlock::test::Child;
using seatlock::test::read_file;
using seatlock::test::run_command;
using seatlock::test::wait_until;
namespace tg = seatlock::testing;

namespace {

constexpr const char* kSeatId = "seat-dns-7";

std::string sh(const std::string& command) {
  return run_command({"/bin/sh", "-c", command}).out;
}

int sh_status(const std::string& command) {
  return run_command({"/bin/sh", "-c", command}).exit_code;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class DaemonDnsLab {
 public:
  DaemonDnsLab() : id_("sl-dnsd-" + std::to_string(getpid())), pki_(tmp_) {
    dir_ = tmp_.path;
    seat_ = id_ + "-seat";
    remote_ = id_ + "-remote";
    must("ip netns add " + seat_);
    must("ip netns add " + remote_);
    must("ip -n " + seat_ + " link add sldd0 type veth peer name sldd1 netns " + remote_);
    must("ip -n " + seat_ + " addr add 10.96.0.1/24 dev sldd0");
    for (const char* a : {"10.96.0.2/24", "10.96.0.53/24", "10.96.0.80/24", "10.96.0.81/24"})
      must("ip -n " + remote_ + " addr add " + a + " dev sldd1");
    for (const auto& ns : {seat_, remote_}) must("ip -n " + ns + " link set lo up");
    must("ip -n " + seat_ + " link set sldd0 up");
    must("ip -n " + remote_ + " link set sldd1 up");
    std::ofstream(dir_ + "/resolv.conf") << "nameserver 10.96.0.53\noptions attempts:1 timeout:2\n";
    dnsmasq_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/sbin/ip",
                                 "netns",
                                 "exec",
                                 remote_,
                                 "/usr/sbin/dnsmasq",
                                 "--keep-in-foreground",
                                 "--conf-file=/dev/null",
                                 "--no-resolv",
                                 "--no-hosts",
                                 "--bind-interfaces",
                                 "--listen-address=10.96.0.53",
                                 "--port=53",
                                 "--user=root",
                                 "--pid-file=" + dir_ + "/dnsmasq.pid",
                                 "--log-queries",
                                 "--log-facility=" + resolver_log(),
                                 "--local-ttl=5",
                                 "--host-record=crm.example.test,10.96.0.80",
                                 "--host-record=collector.example.test,127.0.0.1",
                                 "--host-record=other.example.test,10.96.0.81"},
        dir_ + "/dnsmasq.out");
    REQUIRE(wait_until([&] {
      return sh_status("ip netns exec " + remote_ +
                       " dig +short +time=1 +tries=1 @10.96.0.53 crm.example.test | grep -q "
                       "10.96.0.80") == 0;
    }));
    // A real HTTP server on every remote address, and an echo server for a held connection.
    std::ofstream(dir_ + "/index.html") << "crm\n";
    http_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", remote_, "/usr/bin/python3", "-m",
                                 "http.server", "8080", "--bind", "0.0.0.0", "--directory", dir_},
        dir_ + "/http.log");
    echo_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", remote_,
                                 binary_path("tests/net/sl_net_probe"), "serve", "0.0.0.0", "7000"},
        dir_ + "/echo.log");
    REQUIRE(wait_until([&] {
      return sh_status("ip netns exec " + remote_ +
                       " curl -s -o /dev/null --max-time 1 http://10.96.0.80:8080/") == 0 &&
             contains(read_file(dir_ + "/echo.log"), "ready");
    }));
    start_collector();
  }

  ~DaemonDnsLab() {
    daemon_.reset();
    collector_.reset();
    echo_.reset();
    http_.reset();
    dnsmasq_.reset();
    sh("ip netns del " + seat_);
    sh("ip netns del " + remote_);
  }

  void must(const std::string& command) {
    auto r = run_command({"/bin/sh", "-c", command});
    INFO(command << "\n" << r.out);
    REQUIRE(r.exit_code == 0);
  }

  // seatlock-collector on the seat's loopback, its certificate for collector.example.test.
  void start_collector() {
    must("cd " + dir_ +
         " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
         "named.key -out named.csr -subj '/CN=collector.example.test' 2>/dev/null && printf "
         "'subjectAltName=DNS:collector.example.test\\n' > named.ext && openssl x509 -req -in "
         "named.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out named.pem -days 2 -extfile "
         "named.ext 2>/dev/null");
    pki_.server_cert = dir_ + "/named.pem";
    pki_.server_key = dir_ + "/named.key";
    collector_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", seat_, tg::collector_binary(),
                                 "serve", "--listen", "127.0.0.1:0", "--db", collector_db(),
                                 "--cert", pki_.server_cert, "--key", pki_.server_key, "--ca",
                                 pki_.ca},
        dir_ + "/collector.log");
    REQUIRE(wait_until([&] { return contains(read_file(dir_ + "/collector.log"), "listening "); }));
    const std::string log = read_file(dir_ + "/collector.log");
    const auto at = log.find("listening 127.0.0.1:");
    REQUIRE(at != std::string::npos);
    collector_port_ = std::stoi(log.substr(at + std::string("listening 127.0.0.1:").size()));
  }

  // policy.d/50-net.json (the network section) and 90-seat.json (seat id, collector).
  void write_policy(const json& network) {
    std::filesystem::create_directories(policy_dir());
    auto cert = pki_.seat(kSeatId);
    std::ofstream(policy_dir() + "/90-seat.json") << json{
        {"report",
         {{"seat_id", kSeatId},
          {"collector", "https://collector.example.test:" + std::to_string(collector_port_)},
          {"ca", pki_.ca},
          {"cert", cert.cert},
          {"key", cert.key},
          {"heartbeat", "1h"}}}}.dump(2);
    const std::string tmp = policy_dir() + "/.50-net.tmp";
    std::ofstream(tmp) << json{{"network", network}}.dump(2);
    std::filesystem::rename(tmp, policy_dir() + "/50-net.json");
  }

  // seatlockd resolves the collector's name like any program of the seat (glibc, resolv.conf).
  void start_daemon() {
    daemon_ = std::make_unique<Child>(
        std::vector<std::string>{
            "/bin/sh", "-c",
            "exec " +
                in_seat_cmd("exec " + binary_path("agent/daemon/seatlockd") + " --policy-dir " +
                            policy_dir() + " --state-dir " + dir_ + "/state --control-socket " +
                            socket() + " --components network,delivery --netns " + seat_)},
        daemon_log());
    INFO(read_file(daemon_log()));
    REQUIRE(
        wait_until([&] { return component("network").value("state", "") == "running"; }, 20'000));
    CHECK(component("dns").value("state", "") == "running");
  }

  json status() {
    auto r = sh("ip netns exec " + seat_ + " " + binary_path("agent/cli/seatlockctl") +
                " --socket " + socket() + " --json status");
    return json::parse(r, nullptr, false);
  }
  json component(const std::string& name) {
    json s = status();
    if (!s.is_object() || !s.contains("components") || !s["components"].contains(name))
      return json::object();
    return s["components"][name];
  }
  int ctl(const std::string& args) {
    return sh_status("ip netns exec " + seat_ + " " + binary_path("agent/cli/seatlockctl") +
                     " --socket " + socket() + " " + args);
  }

  // A command in seat whose lookups go through glibc and /etc/resolv.conf, like a user's.
  std::string in_seat_cmd(const std::string& command) const {
    return "ip netns exec " + seat_ + " sh -c 'mount --bind " + dir_ +
           "/resolv.conf /etc/resolv.conf && " + command + "'";
  }
  // curl's exit code: 0 = a 200 came back; 6 = the name did not resolve; 7/28 = no connection.
  int curl(const std::string& url) {
    return sh_status(in_seat_cmd("curl -sf -o /dev/null --connect-timeout 2 --max-time 4 " + url));
  }
  std::string dig(const std::string& args) {
    return sh(in_seat_cmd("dig +time=2 +tries=1 @10.96.0.53 " + args));
  }
  std::string set_elements(const std::string& table, const std::string& set) {
    return sh("ip netns exec " + seat_ + " nft list set inet " + table + " " + set);
  }
  std::size_t resolver_queries(const std::string& name) const {
    return count(read_file(resolver_log()), "query[A] " + name);
  }
  // One TCP connection kept open with a round trip every 500 ms (stops at the first failure),
  // to the address glibc resolved `host` to (sl_net_probe takes addresses only).
  std::unique_ptr<Child> hold(const std::string& host, int port, const std::string& log) {
    const std::string resolve = "a=$(getent ahostsv4 " + host + " | head -n1 | cut -d\\  -f1)";
    return std::make_unique<Child>(
        // exec all the way down: the child the test stops is the probe itself
        std::vector<std::string>{
            "/bin/sh", "-c",
            "exec " + in_seat_cmd(resolve + " && echo resolved $a && exec " +
                                  binary_path("tests/net/sl_net_probe") + " hold $a " +
                                  std::to_string(port) + " 500 100000")},
        log);
  }

  // Rows the collector holds for the seat.
  std::vector<json> collector_events(const std::string& kind) {
    auto r = tg::run_cli(
        {"query", "--db", collector_db(), "--seat", kSeatId, "--json", "--limit", "100000"});
    std::vector<json> out;
    auto add = [&](const json& row) {
      if (row.is_object() && row.value("kind", "") == kind) out.push_back(row);
    };
    auto whole = json::parse(r.out, nullptr, false);
    if (whole.is_array()) {
      for (const auto& row : whole) add(row);
    } else {
      std::istringstream in(r.out);
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] == '{') add(json::parse(line, nullptr, false));
    }
    return out;
  }

  std::string policy_dir() const { return dir_ + "/policy.d"; }
  std::string socket() const { return dir_ + "/control.sock"; }
  std::string daemon_log() const { return dir_ + "/seatlockd.log"; }
  std::string resolver_log() const { return dir_ + "/dnsmasq.log"; }
  std::string collector_db() const { return dir_ + "/collector.db"; }
  const std::string& dir() const { return dir_; }
  int collector_port() const { return collector_port_; }

 private:
  std::string id_;
  tg::TempDir tmp_;
  tg::Pki pki_;
  std::string dir_, seat_, remote_;
  int collector_port_ = 0;
  std::unique_ptr<Child> dnsmasq_, http_, echo_, collector_, daemon_;
};

json crm_policy(json extra = json::object()) {
  json network = {
      {"mode", "enforce"},
      {"dns", {"10.96.0.53"}},
      // Essential (the CRM): it stays open while the internet is closed, so `net close` below
      // re-applies the ruleset without suspending it.
      {"allow", json::array({{{"to", {"crm.example.test"}},
                              {"ports", {8080, 7000}},
                              {"proto", "tcp"},
                              {"essential", true}}})},
      {"denied_log", {{"window", "1s"}, {"rate", 50}}},
      // Element timeout max(TTL 5 s, 1 s) + 20 s, instead of the default floor 30 s, grace 1 m.
      {"dns_guard", {{"ttl_floor", "1s"}, {"grace", "20s"}, {"max_addresses_per_name", 8}}}};
  network.update(extra);
  return network;
}

}  // namespace

TEST_CASE("seatlockd's DNS guard: names by policy, refusals at the collector, reloads, expiry",
          "[dns][netns][daemon]") {
  DaemonDnsLab lab;
  lab.write_policy(crm_policy());
  lab.start_daemon();
  INFO(read_file(lab.daemon_log()));

  // The allowlist's names are resolved at start: the address is in the set before anyone asked.
  CHECK(wait_until([&] { return contains(lab.set_elements("seatlock", "dom0_4"), "10.96.0.80"); }));
  CHECK(lab.resolver_queries("crm.example.test") >= 1);
  CHECK(lab.component("dns").value("resolved_at_start", 0) == 2);  // and the collector's name
  // The collector's name resolves though no entry names it, into the management set with the
  // collector's port (seatlockd resolved it through the guard, like any program).
  CHECK(contains(lab.dig("+short collector.example.test A"), "127.0.0.1"));
  CHECK(contains(lab.set_elements("seatlock", "mgmt4"),
                 "127.0.0.1 . tcp . " + std::to_string(lab.collector_port()) + " timeout"));

  // The allowed name: resolved through the guard, and its address reachable at once.
  CHECK(lab.curl("http://crm.example.test:8080/") == 0);
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.96.0.80"));
  // An address nobody resolved through the guard stays closed, though the HTTP server is there.
  CHECK(lab.curl("http://10.96.0.81:8080/") != 0);
  // A name no entry allows does not resolve: the guard refuses it without asking the resolver.
  CHECK(lab.curl("http://other.example.test:8080/") == 6);
  CHECK(contains(lab.dig("other.example.test A"), "status: REFUSED"));
  CHECK(lab.resolver_queries("other.example.test") == 0);

  // The refusal reaches the collector as net.dns_denied, aggregated, with who asked.
  json denied;
  REQUIRE(wait_until(
      [&] {
        for (const auto& e : lab.collector_events("net.dns_denied"))
          if (e["details"].value("name", "") == "other.example.test") denied = e;
        return !denied.is_null();
      },
      60'000));
  INFO(denied.dump());
  CHECK(denied["details"]["uid"] == 0);
  CHECK(denied["details"]["user"] == "root");
  CHECK(denied["details"]["reason"] == "not-allowed");
  CHECK(denied["details"]["first"].is_string());      // RFC 3339, like net.egress_denied
  CHECK(denied["details"]["count"].get<int>() >= 2);  // curl's lookups and dig's, one event
  CHECK(denied["outcome"] == "blocked");
  CHECK(denied["seat"]["id"] == kSeatId);  // from the policy file

  // A connection held open to the allowed name (resolved once, through the guard).
  const std::string hold_log = lab.dir() + "/hold.log";
  auto held = lab.hold("crm.example.test", 7000, hold_log);
  REQUIRE(wait_until([&] { return contains(read_file(hold_log), "ok 1\n"); }));

  // A policy reload re-creates the tables (empty sets): the guard puts its addresses back in
  // the same transaction, so the name works without being resolved again.
  const std::size_t lookups = lab.resolver_queries("crm.example.test");
  auto applies = [&] { return count(read_file(lab.daemon_log()), "ruleset applied (policy"); };
  const std::size_t applied = applies();
  lab.write_policy(crm_policy({{"ntp", {"10.96.0.123"}}}));
  CHECK(lab.ctl("reload") == 0);
  REQUIRE(wait_until([&] { return applies() > applied; }));  // both tables made anew
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.96.0.80"));
  CHECK(contains(lab.set_elements("seatlock_fallback", "dom0_4"), "10.96.0.80"));
  CHECK(lab.curl("http://10.96.0.80:8080/") == 0);  // by address: no new lookup
  CHECK(lab.resolver_queries("crm.example.test") == lookups);
  // `net close` and `net open` re-apply the ruleset too: the address stays.
  for (const char* command : {"net close", "net open"}) {
    INFO(command);
    CHECK(lab.ctl(command) == 0);
    CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.96.0.80"));
    CHECK(lab.curl("http://10.96.0.80:8080/") == 0);
  }
  CHECK(count(read_file(lab.daemon_log()), "ruleset applied (net close") == 1);
  CHECK(count(read_file(lab.daemon_log()), "ruleset applied (net open") == 1);

  // After TTL (5 s, floor 1 s) and grace (20 s; network.dns_guard) the element expires: new
  // connections to the address are refused, the one held open goes on (its flow carries the
  // domain ct mark).
  REQUIRE(wait_until(
      [&] {
        const std::string set = lab.set_elements("seatlock", "dom0_4");
        return contains(set, "set dom0_4") && !contains(set, "10.96.0.80");
      },
      40'000));
  CHECK(lab.curl("http://10.96.0.80:8080/") != 0);
  const std::string before = read_file(hold_log);
  CHECK(wait_until([&] { return read_file(hold_log).size() > before.size() + 12; }, 5'000));
  INFO(read_file(hold_log));
  CHECK_FALSE(contains(read_file(hold_log), "fail"));
  // Resolving the name again opens the address again.
  CHECK(lab.curl("http://crm.example.test:8080/") == 0);
}
