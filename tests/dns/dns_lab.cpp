// The DNS guard's namespace lab (dns_lab.hpp).
#include "dns_lab.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

namespace seatlock::test::dns {

namespace {

int sh_status(const std::string& command) {
  return run_command({"/bin/sh", "-c", command}).exit_code;
}

}  // namespace

std::string sh(const std::string& command) {
  return run_command({"/bin/sh", "-c", command}).out;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

DnsLab::DnsLab() : id_("sl-dns-" + std::to_string(getpid())), dir_(make_temp_dir("dns")) {
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
  REQUIRE(
      wait_until([&] { return read_file(dir_ + "/echo.log").find("ready") != std::string::npos; }));
}

DnsLab::~DnsLab() {
  guard_.reset();
  echo_.reset();
  dnsmasq_.reset();
  zone_.reset();
  sh("ip netns del " + seat_);
  sh("ip netns del " + remote_);
  if (!getenv("SEATLOCK_KEEP_LAB")) sh("rm -rf " + dir_);
}

void DnsLab::start_resolver() {
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

void DnsLab::must(const std::string& command) {
  auto r = run_command({"/bin/sh", "-c", command});
  INFO(command << "\n" << r.out);
  REQUIRE(r.exit_code == 0);
}

void DnsLab::start_guard(const net::NetRules& rules, const std::vector<std::string>& extra) {
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

std::string DnsLab::in_seat(const std::string& command) {
  return sh("ip netns exec " + seat_ + " " + command);
}

std::string DnsLab::dig(const std::string& args) {
  return in_seat("dig +time=2 +tries=1 @10.97.0.53 " + args);
}

bool DnsLab::tcp_ok(const std::string& host, int port) {
  return sh_status("ip netns exec " + seat_ + " " + binary_path("tests/net/sl_net_probe") +
                   " tcp " + host + " " + std::to_string(port) + " 700") == 0;
}

std::string DnsLab::set_elements(const std::string& table, const std::string& set) {
  return in_seat("nft list set inet " + table + " " + set);
}

std::unique_ptr<Child> DnsLab::in_seat_background(const std::string& command,
                                                  const std::string& log) {
  return std::make_unique<Child>(
      std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", seat_, "/bin/sh", "-c", command},
      log);
}

std::unique_ptr<Child> DnsLab::in_remote_background(const std::vector<std::string>& command,
                                                    const std::string& log) {
  std::vector<std::string> argv = {"/usr/sbin/ip", "netns", "exec", remote_};
  argv.insert(argv.end(), command.begin(), command.end());
  return std::make_unique<Child>(argv, log);
}

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

}  // namespace seatlock::test::dns
