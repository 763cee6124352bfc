// sl_dns_guard: the DNS guard on its own, for the netns tests and benchmarks (seatlockd runs the
// same Guard and GuardServer in-process). Applies the ruleset of a NetRules file (both tables; the
// owned one lives as long as this process) and serves at the rules' guard port until SIGTERM.
//   sl_dns_guard --rules FILE [--events FILE] [--window-ms N] [--floor-ms N] [--grace-ms N]
//                [--max-addresses N]
// (--floor-ms/--grace-ms/--max-addresses stand for network.dns_guard's ttl_floor, grace and
// max_addresses_per_name.) Prints its counters when it stops.
// Prints "ready" once it listens; writes one JSON line per net.dns_denied event to --events.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/net/ruleset.hpp"
#include "os/dns/guard.hpp"
#include "os/dns/socket_owner.hpp"
#include "os/net/nft.hpp"

using namespace seatlock;

namespace {

dns::GuardServer* g_server = nullptr;

void on_term(int) {
  if (g_server) g_server->stop();
}

UnixMillis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string rules_path, events_path;
  std::int64_t window_ms = 1000;
  dns::TimeoutPolicy timeouts;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rules")) rules_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--events")) events_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--window-ms")) window_ms = std::stoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--floor-ms")) timeouts.floor_ms = std::stoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--grace-ms")) timeouts.grace_ms = std::stoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--max-addresses")) timeouts.cap_per_name = std::stoul(argv[i + 1]);
  }
  if (rules_path.empty()) {
    std::cerr << "usage: sl_dns_guard --rules FILE [--events FILE] [--window-ms N]\n";
    return 2;
  }
  try {
    net::NetRules rules =
        net::net_rules_from_json(nlohmann::json::parse(std::ifstream(rules_path)));
    net::Nft nft;
    const UnixMillis start = now_ms();
    nft.run(net::full_transaction(rules, net::compile_ruleset(rules, start)));
    std::mutex state;  // one thread here; the guard's contract asks for it all the same
    dns::Guard guard([&](const std::string& commands) { nft.run(commands); },
                     {net::kOwnedTable, net::kFallbackTable}, state);
    {
      std::lock_guard lock(state);
      guard.set_rules(rules, start);
      guard.set_timeouts(timeouts);
    }
    dns::GuardServer server(guard, rules.dns_guard_port);
    g_server = &server;
    std::signal(SIGTERM, on_term);
    std::signal(SIGINT, on_term);
    std::cout << "ready" << std::endl;
    UnixMillis window_start = 0;
    server.serve([&] {
      std::lock_guard lock(state);
      auto& denied = guard.denied();
      const UnixMillis now = now_ms();
      if (denied.empty()) return;
      if (window_start == 0) window_start = now;
      if (now - window_start < window_ms) return;
      window_start = 0;
      auto w = denied.take(now);
      std::ofstream out(events_path, std::ios::app);
      for (const auto& g : w.groups)
        out << nlohmann::json{{"kind", "net.dns_denied"},
                              {"details", dns::dns_denied_details(g, w, "")}}
                   .dump()
            << "\n";
      if (w.overflow_queries)
        out << nlohmann::json{{"kind", "net.dns_denied"},
                              {"details", dns::dns_denied_overflow_details(w)}}
                   .dump()
            << "\n";
    });
    std::lock_guard lock(state);
    const auto& s = guard.stats();
    std::cout << "stopped: queries " << s.queries << ", forwarded " << s.forwarded << ", refused "
              << s.refused << ", failed " << s.failed << " (" << guard.last_error() << "), capped "
              << s.capped << " (" << guard.last_capped() << "), dropped " << server.dropped()
              << ", refreshes " << s.refreshes << ", asker unknown " << s.asker_unknown
              << ", owner by dump " << dns::socket_owner_udp_dumps() << ", by /proc "
              << dns::socket_owner_fallbacks() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "sl_dns_guard: " << e.what() << "\n";
    return 1;
  }
}
