#pragma once
// The DNS guard's namespace lab, shared by the guard's netns tests (root; never the host's
// namespace):
//   seat   sld0 10.97.0.1/24  <->  remote sld1 10.97.0.2/24 (+ .53 resolver, .54 zone server,
//          .80 .81 .82 .90 .95 .96 hosts)
// A real resolver (dnsmasq, query log on) serves a test zone in remote: A records, a CNAME chain
// out of the allowed domain, 100 addresses for one name (a large answer, only over TCP); it
// forwards slow.example.test (answered after 1.8 s, within the guard's 2 s resolver timeout)
// and rotate.example.test (another address per answer) to zone_server.py. The guard
// (sl_dns_guard, the ruleset of a NetRules file) runs in seat; dig and TCP connects run in seat
// as a user's programs would.
#include <memory>
#include <string>
#include <vector>

#include "core/net/ruleset.hpp"
#include "support/process.hpp"

namespace seatlock::test::dns {

std::string sh(const std::string& command);
bool contains(const std::string& text, const std::string& what);

class DnsLab {
 public:
  DnsLab();
  ~DnsLab();
  DnsLab(const DnsLab&) = delete;
  DnsLab& operator=(const DnsLab&) = delete;

  // The resolver: a static test zone, every query logged. (Again after stop_resolver.)
  void start_resolver();
  void stop_resolver() { dnsmasq_.reset(); }

  void must(const std::string& command);

  // Applies the rules and starts the guard in seat; returns once it listens.
  void start_guard(const net::NetRules& rules, const std::vector<std::string>& extra = {});
  // Stops the guard (SIGTERM); it prints its counters.
  void stop_guard() { guard_.reset(); }

  std::string in_seat(const std::string& command);
  // dig from the seat to the resolver's address (the seat's DNS config, as a program would).
  std::string dig(const std::string& args);
  bool tcp_ok(const std::string& host, int port);
  std::string set_elements(const std::string& table, const std::string& set);
  // A command in seat started in the background (its output in `log`).
  std::unique_ptr<Child> in_seat_background(const std::string& command, const std::string& log);
  // A command in remote started in the background.
  std::unique_ptr<Child> in_remote_background(const std::vector<std::string>& command,
                                              const std::string& log);

  std::string resolver_log() const { return dir_ + "/dnsmasq.log"; }
  std::string zone_log() const { return dir_ + "/zone.log"; }
  const std::string& dir() const { return dir_; }
  std::string events_file() const { return dir_ + "/events.jsonl"; }
  std::string guard_log() const { return dir_ + "/guard.log"; }

 private:
  std::string id_, dir_, seat_, remote_;
  std::unique_ptr<Child> zone_, dnsmasq_, echo_, guard_;
};

// The rules the guard tests start from: crm/alias/slow/rotate/many.example.test on 8080, the
// DoH endpoint doh.example.test on 443, the lab's resolver.
net::NetRules guarded_rules();

}  // namespace seatlock::test::dns
