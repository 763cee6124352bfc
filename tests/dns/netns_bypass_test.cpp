// DNS that escapes the guard's redirect through a reused conntrack tuple (root; namespaces
// sl-dnsp-<pid>-seat|remote, never the host's):
//   seat sldb0 10.98.0.1/24  <->  remote sldb1 10.98.0.2/24 (+ .53: zone_server.py, the resolver)
// The nat redirect only sees NEW flows. The guard's upstream flows (10.98.0.1:P -> .53:53, marked,
// not redirected) leave conntrack entries behind; a client socket on the same source port P sends
// a packet of that existing flow, which no nat rule sees again. With a CIDR allow covering the
// resolver (the packaged default allows the private ranges), such a query for a refused name must
// still never reach the resolver. And since the guard's flows have a conntrack zone of their own
// (docs/dns.md "Conntrack zone"), such a client is redirected to the guard like any other: an
// allowed name is answered at the first try, a refused one gets REFUSED from the guard. The
// clients bind the guard's ports explicitly (read from the resolver's log) instead of waiting for
// the collision by chance.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "core/net/ruleset.hpp"
#include "support/process.hpp"

using namespace seatlock;
using seatlock::test::binary_path;
using seatlock::test::Child;
using seatlock::test::make_temp_dir;
using seatlock::test::read_file;
using seatlock::test::run_command;
using seatlock::test::wait_until;

namespace {

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Sends one query for NAME to RESOLVER:53 from each source port given (bound explicitly, like a
// client whose ephemeral port happens to be one the guard used), waits 0.5 s for each answer.
// Prints "tried N answered M noerror A refused R blocked K" (A: NOERROR answers with an address).
const char* const kPortClient = R"(import socket, struct, sys
resolver, name, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
q = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
tried = answered = noerror = refused = blocked = 0
for port in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", port))
    except OSError:
        s.close()
        continue  # the guard still holds it
    tried += 1
    s.settimeout(0.5)
    try:
        s.sendto(q, (resolver, 53))
        reply = s.recvfrom(4096)[0]
        answered += 1
        rcode, ancount = reply[3] & 0x0F, struct.unpack("!H", reply[6:8])[0]
        noerror += rcode == 0 and ancount > 0
        refused += rcode == 5
    except PermissionError:
        blocked += 1  # dropped by the output chain (sendto fails with EPERM)
    except socket.timeout:
        pass
    s.close()
print("tried", tried, "answered", answered, "noerror", noerror, "refused", refused, "blocked",
      blocked, flush=True)
)";

// The namespaces and the temp dir, removed even when a REQUIRE fails.
struct Namespaces {
  std::string seat, remote, ctr, dir;
  ~Namespaces() {
    run_command({"/bin/sh", "-c",
                 "ip netns del " + seat + "; ip netns del " + remote + "; ip netns del " + ctr});
    if (!getenv("SEATLOCK_KEEP_LAB")) run_command({"/bin/sh", "-c", "rm -rf " + dir});
  }
};

// What a check gets: `ask(name)` runs the port client (kPortClient) in the seat on every source
// port the guard used; `ctr` is a namespace behind the seat (a container: 10.96.0.2, routed
// through the seat, which forwards).
// `settle()` makes one more allowed lookup and waits until the resolver logged it, so the
// resolver has read everything sent before; `zone_log` is its log (removed after the check).
struct Lab {
  std::function<std::string(const std::string&)> ask;
  std::function<void()> settle;
  std::string zone_log, ctr;
};

// The lab: the resolver (zone_server.py, logging each query's source port), the guard with the
// resolver's /24 allowed by CIDR, and 20 allowed lookups through the guard. Then `check` runs.
void with_guard_ports(const std::function<void(const Lab&)>& check) {
  const std::string id = "sl-dnsp-" + std::to_string(getpid());
  Namespaces lab{id + "-seat", id + "-remote", id + "-ctr", make_temp_dir("dnsb")};
  const std::string &seat = lab.seat, &remote = lab.remote, &ctr = lab.ctr, &dir = lab.dir;
  auto must = [](const std::string& command) {
    auto r = run_command({"/bin/sh", "-c", command});
    INFO(command << "\n" << r.out);
    REQUIRE(r.exit_code == 0);
  };
  must("ip netns add " + seat);
  must("ip netns add " + remote);
  must("ip -n " + seat + " link add sldb0 type veth peer name sldb1 netns " + remote);
  must("ip -n " + seat + " addr add 10.98.0.1/24 dev sldb0");
  must("ip -n " + remote + " addr add 10.98.0.2/24 dev sldb1");
  must("ip -n " + remote + " addr add 10.98.0.53/24 dev sldb1");
  for (const auto& ns : {seat, remote}) {
    must("ip -n " + ns + " link set lo up");
  }
  must("ip -n " + seat + " link set sldb0 up");
  must("ip -n " + remote + " link set sldb1 up");
  must("ip netns add " + ctr);
  must("ip -n " + seat + " link add sldc0 type veth peer name sldc1 netns " + ctr);
  must("ip -n " + seat + " addr add 10.96.0.1/24 dev sldc0");
  must("ip -n " + ctr + " addr add 10.96.0.2/24 dev sldc1");
  must("ip -n " + seat + " link set sldc0 up");
  must("ip -n " + ctr + " link set sldc1 up");
  must("ip -n " + ctr + " route add default via 10.96.0.1");
  must("ip -n " + remote + " route add 10.96.0.0/24 via 10.98.0.1");
  must("ip netns exec " + seat + " sysctl -qw net.ipv4.ip_forward=1");
  const std::string zone_log = dir + "/zone.log", guard_log = dir + "/guard.log";
  // The resolver logs every query with its source port; it answers rotate.example.test and
  // REFUSED (an answer all the same) for anything else.
  Child zone({"/usr/sbin/ip", "netns", "exec", remote, "/usr/bin/python3",
              std::string(SEATLOCK_SOURCE_DIR) + "/tests/dns/zone_server.py", "10.98.0.53", "0"},
             zone_log);
  REQUIRE(wait_until([&] { return contains(read_file(zone_log), "ready"); }));

  net::NetRules rules;
  rules.dns = {"10.98.0.53"};
  // The resolver's subnet is allowed by CIDR, as the packaged default allows 10.0.0.0/8.
  EgressRule subnet;
  subnet.to = {Cidr{4, "10.98.0.0", 24}};
  subnet.proto = "any";
  rules.allow = {subnet};
  rules.allow_domains = {{{"rotate.example.test"}, {{8080, 8080}}, "tcp", ""}};
  rules.dns_guard_port = net::kDnsGuardPort;
  std::ofstream(dir + "/rules.json") << net::to_json(rules).dump();
  Child guard({"/usr/sbin/ip", "netns", "exec", seat, binary_path("tests/dns/sl_dns_guard"),
               "--rules", dir + "/rules.json"},
              guard_log);
  REQUIRE(wait_until([&] { return contains(read_file(guard_log), "ready"); }));

  // Allowed lookups through the guard: each leaves an upstream flow in conntrack. (Without the
  // conntrack zone a dig whose own port collides with one of them was dropped: try again.)
  const std::string lookup =
      "ip netns exec " + seat +
      " sh -c 'for t in 1 2 3; do dig +short +time=2 +tries=1 @10.98.0.53 rotate.example.test A "
      "| grep -q 10.97.0.9 && exit 0; done; exit 1'";
  for (int i = 0; i < 20; ++i) must(lookup);
  // Wait for all 20 queries, not for 20 distinct ports: two upstream sockets may get the same
  // ephemeral port by chance (about 1 run in 150), which once failed CI here.
  std::set<std::string> ports;
  REQUIRE(wait_until([&] {
    ports.clear();
    int queries = 0;
    std::istringstream log(read_file(zone_log));
    std::string word, name, from, port;
    for (std::string line; std::getline(log, line);) {
      std::istringstream l(line);
      if (l >> word >> name >> from >> port && word == "query" && from == "from") {
        ports.insert(port);
        ++queries;
      }
    }
    return queries >= 20;
  }));
  REQUIRE(ports.size() >= 10);

  std::ofstream(dir + "/client.py") << kPortClient;
  // A client on each of those ports asks for NAME straight at the resolver.
  auto ask = [&](const std::string& name) {
    std::string command =
        "ip netns exec " + seat + " python3 " + dir + "/client.py 10.98.0.53 " + name;
    for (const auto& p : ports) command += " " + p;
    return run_command({"/bin/sh", "-c", command}).out;
  };
  auto settle = [&] {
    const auto before = read_file(zone_log).size();
    must(lookup);
    REQUIRE(wait_until([&] { return read_file(zone_log).size() > before; }));
  };
  check(Lab{ask, settle, zone_log, ctr});
}

int count_after(const std::string& result, const std::string& word) {
  std::istringstream in(result);
  std::string w;
  int n = -1;
  while (in >> w)
    if (w == word && in >> n) return n;
  return -1;
}

}  // namespace

TEST_CASE("a client on the source port of the guard's upstream flow cannot reach the resolver",
          "[dns][netns]") {
  with_guard_ports([&](const Lab& lab) {
    const std::string result = lab.ask("leak.evil.test");
    lab.settle();
    INFO(result << read_file(lab.zone_log));
    // Most ports are free again (the guard closes its upstream sockets when idle).
    CHECK(count_after(result, "tried") > 0);
    // Whatever answer such a client gets is the guard's refusal, not the resolver's.
    CHECK(count_after(result, "answered") == count_after(result, "refused"));
    CHECK_FALSE(contains(read_file(lab.zone_log), "leak.evil.test"));
  });
}

TEST_CASE("a client on the source port of the guard's upstream flow is answered at the first try",
          "[dns][netns]") {
  // The guard's flows are in a conntrack zone of their own: the client's query is a new flow,
  // redirected to the guard like any other, not a dropped packet of the guard's flow.
  with_guard_ports([&](const Lab& lab) {
    const std::string result = lab.ask("rotate.example.test");
    INFO(result << read_file(lab.zone_log));
    const int tried = count_after(result, "tried");
    CHECK(tried > 0);
    CHECK(count_after(result, "blocked") == 0);
    CHECK(count_after(result, "noerror") == tried);
  });
}

TEST_CASE("a container's DNS forwarded through the seat never reaches the resolver",
          "[dns][netns]") {
  // Only the seat's own sockets are redirected to the guard; a container behind the seat sends
  // its queries through the forward chain, where the CIDR allow covering the resolver would
  // have passed them unchecked (docs/dns.md "Containers").
  with_guard_ports([&](const Lab& lab) {
    const std::string in_ctr = "ip netns exec " + lab.ctr;
    const std::string result =
        run_command({"/bin/sh", "-c",
                     in_ctr + " dig +time=1 +tries=2 @10.98.0.53 tunnel.evil.test; " + in_ctr +
                         " dig +tcp +time=1 +tries=1 @10.98.0.53 tcp.evil.test"})
            .out;
    lab.settle();
    INFO(result << read_file(lab.zone_log));
    CHECK_FALSE(contains(read_file(lab.zone_log), "evil.test"));
    CHECK_FALSE(contains(result, "status:"));  // no answer came back, not even a refusal
  });
}
