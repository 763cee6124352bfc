// Reconnect storm: after an outage, every seat reconnects at the same moment and uploads the
// backlog it spooled (one hour by default: 12 heartbeats at the 5-minute default plus
// violations). The seats behave like the agent's sender (tests/collector/storm_client.hpp: a
// new connection per POST, connect timeout 10 s, Retry-After honoured, backoff after a failed
// connection). Prints answers by status, failed connections, the exactly-once check and
// `seatlock-collector verify`; exits 1 unless only 200/429/503 (with Retry-After) were seen,
// no connection failed and everything was stored once.
// usage: collector_storm_bench [--seats 10000] [--heartbeats 12] [--violations 8]
//                              [--batch-events 500] [--extra-arg ARG]... [--give-up S]
//                              [--connect-timeout S]
//                              [--client tls|curl] [--sysctl-file PATH|none] [--sysctl K=V]...
// --client: tls (default) plays the seats with the lean raw-OpenSSL client
// (tests/collector/storm_tls_client.hpp, ~0.3 ms CPU per connection); curl with libcurl, the
// agent's own stack (~2 ms per connection: at 10,000 seats on 2 cores the client saturates).
// --connect-timeout: the seats' (TCP + TLS) in seconds, default the agent's 10.
// --give-up: stop after S seconds and print what was absorbed by then (exit 1).
// The storm runs in a network namespace of its own (needs root) with the listen-queue limits of
// the sysctl.d file the package ships (packaging/sysctl/60-seatlock-collector.conf; "none" =
// a new namespace's kernel defaults, as on a host without the package's file), --sysctl on top.
#include <cstdio>
#include <fstream>
#include <string>

#include "storm_client.hpp"

using namespace seatlock::testing;

int main(int argc, char** argv) {
  StormOptions o;
  o.client = StormClient::tls;  // libcurl's per-connection TLS setup would be the bottleneck
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--seats") o.seats = std::stoul(argv[i + 1]);
    if (k == "--heartbeats") o.heartbeats = std::stoul(argv[i + 1]);
    if (k == "--violations") o.violations = std::stoul(argv[i + 1]);
    if (k == "--batch-events") o.batch_events = std::stoul(argv[i + 1]);
    if (k == "--extra-arg") o.serve_args.push_back(argv[i + 1]);
    if (k == "--give-up") o.give_up_s = std::stod(argv[i + 1]);
    if (k == "--connect-timeout") o.connect_timeout_s = std::stod(argv[i + 1]);
    if (k == "--sysctl-file") o.sysctl_file = argv[i + 1];
    if (k == "--sysctl") {
      std::string kv = argv[i + 1];
      auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "collector_storm_bench: --sysctl wants KEY=VALUE, got %s\n",
                     argv[i + 1]);
        return 2;
      }
      o.sysctl[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (k == "--client")
      o.client = std::string(argv[i + 1]) == "curl" ? StormClient::curl : StormClient::tls;
  }
  StormResult r;
  try {
    r = run_storm(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "collector_storm_bench: %s\n", e.what());
    return 2;
  }
  std::ifstream la("/proc/loadavg");
  std::string load;
  std::getline(la, load);
  std::printf(
      "reconnect storm: %zu seats at once, each a one-hour backlog of %zu events (%zu "
      "heartbeats + %zu violations) in batches of <= %zu, %.0f events/s\n  %s  load average at "
      "end: %s\n",
      o.seats, o.heartbeats + o.violations, o.heartbeats, o.violations, o.batch_events,
      static_cast<double>(r.expected) / r.seconds, r.summary().c_str(), load.c_str());
  bool ok = r.seats_done == r.seats && r.transport_error_total == 0 && r.only_200_429_503() &&
            r.without_retry_after == 0 && r.stored_exactly_once() && r.verify_exit == 0;
  return ok ? 0 : 1;
}
