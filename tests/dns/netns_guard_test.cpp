// The DNS guard end to end in network namespaces (root; never the host's namespace):
//   seat   sld0 10.97.0.1/24  <->  remote sld1 10.97.0.2/24 (+ .53 resolver, .54 zone server,
//          .80 .81 .82 .90 .95 .96 hosts)
// A real resolver (dnsmasq, query log on) serves a test zone in remote: A records, a CNAME chain
// out of the allowed domain, 100 addresses for one name (a large answer, only over TCP); it
// forwards slow.example.test (answered after 1.8 s, within the guard's 2 s resolver timeout)
// and rotate.example.test (another address per answer) to zone_server.py. The guard
// (sl_dns_guard, the ruleset of a NetRules file) runs in seat; dig and TCP connects run in seat
// as a user's programs would.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <set>

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

std::string sh(const std::string& command) {
  return run_command({"/bin/sh", "-c", command}).out;
}

int sh_status(const std::string& command) {
  return run_command({"/bin/sh", "-c", command}).exit_code;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class DnsLab {
 public:
  DnsLab() : id_("sl-dns-" + std::to_string(getpid())), dir_(make_temp_dir("dns")) {
    seat_ = id_ + "-seat";
    remote_ = id_ + "-remote";
    must("ip netns add " + seat_);
    must("ip netns add " + remote_);
    must("ip -n " + seat_ + " link add sld0 type veth peer name sld1 netns " + remote_);
    must("ip -n " + seat_ + " addr add 10.97.0.1/24 dev sld0");
    for (const char* a :
         {"10.97.0.2/24", "10.97.0.53/24", "10.97.0.54/24", "10.97.0.80/24", "10.97.0.81/24",
          "10.97.0.82/24", "10.97.0.90/24", "10.97.0.95/24", "10.97.0.96/24"})
      must("ip -n " + remote_ + " addr add " + a + " dev sld1");
    for (const auto& ns : {seat_, remote_}) must("ip -n " + ns + " link set lo up");
    must("ip -n " + seat_ + " link set sld0 up");
    must("ip -n " + remote_ + " link set sld1 up");
    // IPv6 next to it: crm.example.test also has an AAAA record (fd97::80).
    must("ip -n " + seat_ + " addr add fd97::1/64 dev sld0 nodad");
    for (const char* a : {"fd97::2/64", "fd97::80/64"})
      must("ip -n " + remote_ + " addr add " + a + " dev sld1 nodad");
    // One name with 100 addresses (10.97.1.1-100): too large for UDP.
    {
      std::ofstream hosts(dir_ + "/many.hosts");
      for (int i = 1; i <= 100; ++i) hosts << "10.97.1." << i << " many.example.test\n";
    }
    zone_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", remote_, "/usr/bin/python3",
                                 std::string(SEATLOCK_SOURCE_DIR) + "/tests/dns/zone_server.py",
                                 "10.97.0.54", "1.8"},
        zone_log());
    REQUIRE(wait_until([&] { return contains(read_file(zone_log()), "ready"); }));
    start_resolver();
    echo_ =
        std::make_unique<Child>(std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", remote_,
                                                         binary_path("tests/net/sl_net_probe"),
                                                         "serve", "0.0.0.0", "8080", "853", "443"},
                                dir_ + "/echo.log");
    REQUIRE(wait_until(
        [&] { return read_file(dir_ + "/echo.log").find("ready") != std::string::npos; }));
  }

  ~DnsLab() {
    guard_.reset();
    echo_.reset();
    dnsmasq_.reset();
    zone_.reset();
    sh("ip netns del " + seat_);
    sh("ip netns del " + remote_);
    if (!getenv("SEATLOCK_KEEP_LAB")) sh("rm -rf " + dir_);
  }

  // The resolver: a static test zone, every query logged. (Again after stop_resolver.)
  void start_resolver() {
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
                                 "--listen-address=10.97.0.53",
                                 "--port=53",
                                 "--user=root",
                                 "--pid-file=" + dir_ + "/dnsmasq.pid",
                                 "--log-queries",
                                 "--log-facility=" + resolver_log(),
                                 "--local-ttl=5",
                                 "--host-record=crm.example.test,10.97.0.80,fd97::80",
                                 "--host-record=other.example.test,10.97.0.81",
                                 "--host-record=collector.example.test,10.97.0.82",
                                 "--host-record=edge.cdn.test,10.97.0.90",
                                 "--cname=alias.example.test,edge.cdn.test",
                                 "--host-record=doh.example.test,10.97.0.95",
                                 "--host-record=dns.public-doh.test,10.97.0.96",
                                 "--addn-hosts=" + dir_ + "/many.hosts",
                                 "--server=/slow.example.test/10.97.0.54",
                                 "--server=/rotate.example.test/10.97.0.54"},
        dir_ + "/dnsmasq.out");
    REQUIRE(wait_until([&] {
      return sh_status("ip netns exec " + remote_ +
                       " dig +short +time=1 +tries=1 @10.97.0.53 crm.example.test | grep -q "
                       "10.97.0.80") == 0;
    }));
  }
  void stop_resolver() { dnsmasq_.reset(); }

  void must(const std::string& command) {
    auto r = run_command({"/bin/sh", "-c", command});
    INFO(command << "\n" << r.out);
    REQUIRE(r.exit_code == 0);
  }

  // Applies the rules and starts the guard in seat; returns once it listens.
  void start_guard(const net::NetRules& rules, const std::vector<std::string>& extra = {}) {
    std::ofstream(dir_ + "/rules.json") << net::to_json(rules).dump();
    std::vector<std::string> argv = {"/usr/sbin/ip",
                                     "netns",
                                     "exec",
                                     seat_,
                                     binary_path("tests/dns/sl_dns_guard"),
                                     "--rules",
                                     dir_ + "/rules.json",
                                     "--events",
                                     events_file(),
                                     "--window-ms",
                                     "3000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    guard_ = std::make_unique<Child>(argv, guard_log());
    INFO(read_file(guard_log()));
    REQUIRE(wait_until([&] { return read_file(guard_log()).find("ready") != std::string::npos; }));
  }

  std::string in_seat(const std::string& command) {
    return sh("ip netns exec " + seat_ + " " + command);
  }
  // dig from the seat to the resolver's address (the seat's DNS config, as a program would).
  std::string dig(const std::string& args) {
    return in_seat("dig +time=2 +tries=1 @10.97.0.53 " + args);
  }
  bool tcp_ok(const std::string& host, int port) {
    return sh_status("ip netns exec " + seat_ + " " + binary_path("tests/net/sl_net_probe") +
                     " tcp " + host + " " + std::to_string(port) + " 700") == 0;
  }
  std::string set_elements(const std::string& table, const std::string& set) {
    return in_seat("nft list set inet " + table + " " + set);
  }
  // Stops the guard (SIGTERM); it prints its counters.
  void stop_guard() { guard_.reset(); }
  // A command in seat started in the background (its output in `log`).
  std::unique_ptr<Child> in_seat_background(const std::string& command, const std::string& log) {
    return std::make_unique<Child>(
        std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", seat_, "/bin/sh", "-c", command},
        log);
  }
  // A command in remote started in the background.
  std::unique_ptr<Child> in_remote_background(const std::vector<std::string>& command,
                                              const std::string& log) {
    std::vector<std::string> argv = {"/usr/sbin/ip", "netns", "exec", remote_};
    argv.insert(argv.end(), command.begin(), command.end());
    return std::make_unique<Child>(argv, log);
  }
  std::string resolver_log() const { return dir_ + "/dnsmasq.log"; }
  std::string zone_log() const { return dir_ + "/zone.log"; }
  const std::string& dir() const { return dir_; }
  std::string events_file() const { return dir_ + "/events.jsonl"; }
  std::string guard_log() const { return dir_ + "/guard.log"; }

 private:
  std::string id_, dir_, seat_, remote_;
  std::unique_ptr<Child> zone_, dnsmasq_, echo_, guard_;
};

net::NetRules guarded_rules() {
  net::NetRules r;
  r.dns = {"10.97.0.53"};
  r.allow_domains = {{{"crm.example.test", "alias.example.test", "slow.example.test",
                       "rotate.example.test", "many.example.test"},
                      {{8080, 8080}},
                      "tcp",
                      ""},
                     // A DNS-over-HTTPS endpoint the policy lists: an allow entry on 443.
                     {{"doh.example.test"}, {{443, 443}}, "tcp", ""}};
  r.dns_guard_port = net::kDnsGuardPort;
  return r;
}

}  // namespace

TEST_CASE("an allowed name resolves through the guard and its address becomes reachable",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  // Default deny: the host is not reachable before anyone looked its name up.
  CHECK_FALSE(lab.tcp_ok("10.97.0.80", 8080));

  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  // The answer was sent only after the kernel took the element: no wait needed, in both tables.
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.80 timeout 1m30s"));
  CHECK(contains(lab.set_elements("seatlock_fallback", "dom0_4"), "10.97.0.80 timeout 1m30s"));
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
  CHECK_FALSE(lab.tcp_ok("10.97.0.80", 853));  // the entry's ports only

  // Over TCP too (dig +tcp reaches the guard's TCP listener through the redirect).
  CHECK(lab.dig("+tcp +short crm.example.test A") == "10.97.0.80\n");

  // A CNAME chain that leaves the allowed domain: the final address goes into the set of the
  // entry that admitted the question name.
  CHECK(lab.dig("+short alias.example.test A") == "edge.cdn.test.\n10.97.0.90\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.90"));
  CHECK(lab.tcp_ok("10.97.0.90", 8080));
  // ...but the CNAME target itself is not an allowed name.
  CHECK(contains(lab.dig("edge.cdn.test A"), "status: REFUSED"));
}

TEST_CASE("an AAAA answer's address goes into the IPv6 sets and becomes reachable",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  const std::string log = lab.dir() + "/echo6.log";
  auto echo6 = lab.in_remote_background(
      {binary_path("tests/net/sl_net_probe"), "serve", "fd97::80", "8080"}, log);
  REQUIRE(wait_until([&] { return contains(read_file(log), "ready"); }));
  CHECK_FALSE(lab.tcp_ok("fd97::80", 8080));  // default deny before anyone asked
  CHECK(lab.dig("+short crm.example.test AAAA") == "fd97::80\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_6"), "fd97::80"));
  CHECK(contains(lab.set_elements("seatlock_fallback", "dom0_6"), "fd97::80"));
  CHECK(lab.tcp_ok("fd97::80", 8080));
  CHECK_FALSE(lab.tcp_ok("fd97::80", 853));  // the entry's ports only
}

TEST_CASE("other names are refused without reaching the resolver and are reported",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  CHECK(contains(lab.dig("other.example.test A"), "status: REFUSED"));
  CHECK(contains(lab.dig("+tcp other.example.test A"), "status: REFUSED"));
  // Tunnelling-shaped: long random labels under a domain nobody allowed.
  const std::string tunnel =
      "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHR1bm5lbA.MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3Bx.t.evil.test";
  CHECK(contains(lab.dig("TXT " + tunnel), "status: REFUSED"));
  CHECK_FALSE(lab.tcp_ok("10.97.0.81", 8080));
  // Any user's query is caught (the guard tells who asked).
  CHECK(contains(lab.in_seat("setpriv --reuid=65534 --regid=65534 --clear-groups dig +time=2 "
                             "+tries=1 @10.97.0.53 nobody.evil.test A"),
                 "status: REFUSED"));
  // A client that never connects its socket (bound to the wildcard address, sendto): its
  // socket table entry says 0.0.0.0, not the address the guard sees; still found (previous
  // main: uid -1).
  CHECK(contains(lab.in_seat("python3 -c \"import socket; "
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                             "s.bind(('0.0.0.0', 0)); s.settimeout(3); "
                             "q = bytes.fromhex('123401000001000000000000') + b'"
                             "\\x07unbound\\x04evil\\x04test\\x00\\x00\\x01\\x00\\x01'; "
                             "s.sendto(q, ('10.97.0.53', 53)); "
                             "print('rcode', s.recv(512)[3] & 15)\""),
                 "rcode 5"));  // REFUSED
  // The DoH canary gets NXDOMAIN, so browsers keep DNS over HTTPS off.
  CHECK(contains(lab.dig("use-application-dns.net A"), "status: NXDOMAIN"));
  // DNS over TLS to the resolver is denied (a listener is there).
  CHECK_FALSE(lab.tcp_ok("10.97.0.53", 853));

  // An allowed lookup reaches the resolver (so its log works) ...
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  REQUIRE(wait_until([&] { return contains(read_file(lab.resolver_log()), "crm.example.test"); }));
  // ... the refused ones never did.
  const std::string log = read_file(lab.resolver_log());
  CHECK_FALSE(contains(log, "other.example.test"));
  CHECK_FALSE(contains(log, "evil.test"));
  CHECK_FALSE(contains(log, "use-application-dns"));

  // Aggregated: one net.dns_denied per name and window, UDP and TCP counted together.
  REQUIRE(wait_until([&] { return contains(read_file(lab.events_file()), "evil.test"); }));
  const std::string events = read_file(lab.events_file());
  INFO(events);
  CHECK(contains(events, R"("count":2,)"));
  CHECK(contains(events,
                 R"("name":"other.example.test","qtype":"A","reason":"not-allowed","uid":0,)"));
  CHECK(contains(events,
                 R"("name":"nobody.evil.test","qtype":"A","reason":"not-allowed","uid":65534,)"));
  CHECK(contains(events,
                 R"("name":"unbound.evil.test","qtype":"A","reason":"not-allowed","uid":0,)"));
}

TEST_CASE("an address expires after TTL and grace, a new lookup brings it back", "[dns][netns]") {
  DnsLab lab;
  // The resolver's TTL is 5 s; floor 1 s and grace 1 s instead of 30 s and 60 s.
  lab.start_guard(guarded_rules(), {"--floor-ms", "1000", "--grace-ms", "1000"});
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.80 timeout 6s"));
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
  CHECK(wait_until([&] { return !contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.80"); },
                   15'000));
  CHECK_FALSE(lab.tcp_ok("10.97.0.80", 8080));
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
}

TEST_CASE("the kernel accepts the ruleset with exception names, close and audit", "[dns][netns]") {
  const std::string dir = make_temp_dir("dns-check");
  net::NetRules r = guarded_rules();
  net::ResolvedException x;
  x.ticket = "IT-1";
  x.uids = {0, 65534};
  x.until = 4'000'000'000'000;
  x.allow_domains = {{{"*.portal.example.org"}, {{443, 443}, {8000, 8010}}, "any", ""}};
  r.exceptions.push_back(x);
  r.dns.push_back("fd00::53");
  for (Mode mode : {Mode::Enforce, Mode::Audit})
    for (bool closed : {false, true}) {
      r.mode = mode;
      r.closed = closed;
      const std::string file = dir + "/ruleset.nft";
      std::ofstream(file) << net::full_transaction(r, net::compile_ruleset(r, 1'800'000'000'000));
      // A fresh namespace for nft alone: --check never commits, and never in the host's.
      auto check = run_command({"/usr/bin/unshare", "-n", "/usr/sbin/nft", "--check", "-f", file});
      INFO(to_string(mode) << (closed ? " closed\n" : "\n") << check.out << read_file(file));
      CHECK(check.exit_code == 0);
    }
  sh("rm -rf " + dir);
}

TEST_CASE("a slow answer for one name does not hold up another client's query", "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  // slow.example.test: the zone server answers after 1.8 s. Its query is in flight...
  const std::string slow_log = lab.dir() + "/slow.dig";
  auto slow = lab.in_seat_background("dig +time=6 +tries=1 +short @10.97.0.53 slow.example.test A",
                                     slow_log);
  REQUIRE(wait_until([&] { return contains(read_file(lab.zone_log()), "slow.example.test"); }));
  // ...while another client's name resolves at once (dig gives up after 2 s).
  const auto start = std::chrono::steady_clock::now();
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  const auto fast_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  CHECK(fast_ms < 700);  // one query at a time, it waited for the slow one (about 1.7 s)
  CHECK(read_file(slow_log).empty());  // the slow one is still waiting
  // The slow one gets its answer, its address in the set when it does.
  REQUIRE(wait_until([&] { return !read_file(slow_log).empty(); }, 8'000));
  CHECK(read_file(slow_log) == "10.97.0.91\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.91"));
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
}

TEST_CASE("rotating answers and a name with many addresses over TCP: every address up to the cap",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules(), {"--max-addresses", "64"});
  // Each answer names another address (TTL 0): each goes into the set with its own timeout
  // (the floor), so a client that got any of them can connect.
  std::set<std::string> rotated;
  for (int i = 0; i < 3; ++i) rotated.insert(lab.dig("+short rotate.example.test A"));
  CHECK(rotated == std::set<std::string>{"10.97.0.92\n", "10.97.0.93\n", "10.97.0.94\n"});
  const std::string set = lab.set_elements("seatlock", "dom0_4");
  for (const char* a : {"10.97.0.92 ", "10.97.0.93 ", "10.97.0.94 "}) CHECK(contains(set, a));

  // 100 addresses: too large for UDP, dig retries over TCP through the guard. (The truncated
  // UDP answer adds nothing: the guard takes a name's addresses from complete answers only.)
  const std::string many = lab.dig("many.example.test A");
  INFO(many);
  CHECK(contains(many, "Truncated, retrying in TCP mode"));
  std::size_t answered = 0;
  for (auto at = many.find("\tA\t10.97.1."); at != std::string::npos;
       at = many.find("\tA\t10.97.1.", at + 1))
    ++answered;
  CHECK(answered == 100);  // the client gets the whole answer
  // The first 64 (max_addresses_per_name) are in both tables' sets, the rest left out...
  for (const char* table : {"seatlock", "seatlock_fallback"}) {
    const std::string elements = lab.set_elements(table, "dom0_4");
    std::size_t in_set = 0;
    for (int i = 1; i <= 100; ++i)
      in_set += contains(elements, "10.97.1." + std::to_string(i) + " ") ? 1 : 0;
    CHECK(in_set == 64);
  }
  // ...and the cut is reported in the guard's counters.
  lab.stop_guard();
  const std::string log = read_file(lab.guard_log());
  INFO(log);
  CHECK(contains(log, "capped 1 (many.example.test: 100 addresses, 36 left out)"));
  CHECK(contains(log, "dropped 0"));
}

TEST_CASE("DNS over HTTPS only to an endpoint the policy lists", "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  // Listed (an allow entry naming the DoH host on 443): resolves, and 443 is open.
  CHECK(lab.dig("+short doh.example.test A") == "10.97.0.95\n");
  CHECK(lab.tcp_ok("10.97.0.95", 443));
  // Not listed: the name is refused, its address stays closed on 443 (a listener is there).
  CHECK(contains(lab.dig("dns.public-doh.test A"), "status: REFUSED"));
  CHECK_FALSE(lab.tcp_ok("10.97.0.96", 443));
  // Nor does a listed endpoint open another port.
  CHECK_FALSE(lab.tcp_ok("10.97.0.95", 8080));
}

TEST_CASE("the collector's name is looked up again before its elements expire", "[dns][netns]") {
  DnsLab lab;
  net::NetRules rules = guarded_rules();
  rules.collector_host = "collector.example.test";  // report.collector names a host
  rules.collector_port = 443;
  // The resolver's TTL is 5 s; floor 1 s and grace 1 s: an element lives 6 s after an answer.
  lab.start_guard(rules, {"--floor-ms", "1000", "--grace-ms", "1000"});
  CHECK(lab.dig("+short collector.example.test A") == "10.97.0.82\n");
  const std::string element = "10.97.0.82 . tcp . 443";
  CHECK(contains(lab.set_elements("seatlock", "mgmt4"), element));
  CHECK(lab.tcp_ok("10.97.0.82", 443));
  // Nobody asks for the name again: for 12 s (twice TTL + grace) the element never leaves the
  // set and the collector stays reachable (on the previous main it expired after 6 s).
  CHECK_FALSE(wait_until(
      [&] {
        return !contains(lab.set_elements("seatlock", "mgmt4"), element) ||
               !contains(lab.set_elements("seatlock_fallback", "mgmt4"), element);
      },
      12'000));
  CHECK(lab.tcp_ok("10.97.0.82", 443));
  // The guard asked the resolver itself, again and again.
  const std::string log = read_file(lab.resolver_log());
  std::size_t asked = 0;
  for (auto at = log.find("query[A] collector.example.test"); at != std::string::npos;
       at = log.find("query[A] collector.example.test", at + 1))
    ++asked;
  CHECK(asked >= 4);

  // The resolver goes away: the lookups fail, the element ends on its own timeout (no answer
  // extends it, none removes it earlier)...
  lab.stop_resolver();
  CHECK(wait_until([&] { return !contains(lab.set_elements("seatlock", "mgmt4"), element); },
                   15'000));
  // ...and the guard keeps trying: once the resolver is back, the collector is reachable again
  // without any client asking.
  lab.start_resolver();
  CHECK(
      wait_until([&] { return contains(lab.set_elements("seatlock", "mgmt4"), element); }, 12'000));
  CHECK(lab.tcp_ok("10.97.0.82", 443));
}
