#pragma once
// A reconnect storm against a real `seatlock-collector serve` (tokens, SQLite store): every
// seat connects at the same moment from its own 127.1.x.y address and uploads its spooled
// backlog. Each seat behaves like the agent's sender (agent/os/delivery/http_post.cpp,
// sender.cpp): a fresh connection and full TLS handshake per POST (no keep-alive, no session
// resumption), connect timeout 10 s (TCP + TLS), request timeout 60 s; 429/503 -> wait
// Retry-After, then resend the same batch whole; a failed connection -> back off 1, 2, 4 ... s
// (drawn from [d/2, d]). Used by tests/collector/storm_test.cpp and bench/collector/storm_bench.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace seatlock::testing {

// Who plays the seats: libcurl (exactly the agent's code path; ~2 ms client CPU per
// connection, fine for hundreds of seats) or the lean raw-OpenSSL client of
// storm_tls_client.hpp (same behaviour, ~0.3 ms; what 10,000 seats on 2 cores need).
enum class StormClient { curl, tls };

struct StormOptions {
  std::size_t seats = 10000;
  StormClient client = StormClient::curl;
  std::size_t heartbeats = 12, violations = 8;  // one hour at the 5-minute heartbeat default
  std::size_t batch_events = 500;
  std::vector<std::string> serve_args;  // added to --tokens-only --max-connections seats+1000
  double give_up_s = 0;                 // 0 = run until every seat is done
  // The seats' connect timeout (TCP + TLS handshake): the agent's 10 s. A small storm that
  // stands for a big one scales it down together with the collector's --queue-timeout.
  double connect_timeout_s = 10;
  // The storm runs in a network namespace of its own (storm_netns.hpp) with the listen-queue
  // limits of this sysctl.d file ("" = the shipped one, "none" = a new namespace's kernel
  // defaults), then `sysctl` on top (e.g. a squeezed queue that scales a big storm down).
  std::string sysctl_file;
  std::map<std::string, std::string> sysctl;
};

struct StormResult {
  std::size_t seats = 0, seats_done = 0, expected = 0;
  double seconds = 0, p50_s = 0, p99_s = 0;             // all seats done; when one seat was done
  std::map<long, std::size_t> by_status;                // HTTP answers
  std::map<std::string, std::size_t> transport_errors;  // reason -> count
  std::size_t transport_error_total = 0;
  std::size_t connections = 0;  // attempted (one per POST and per retry)
  std::string client;           // "curl" or "tls"
  std::string first_non_200;
  std::size_t without_retry_after = 0;  // 429/503 without the header
  std::size_t acked = 0, duplicates = 0, stored_rows = 0, distinct_ids = 0;
  long collector_hwm_kib = 0;
  double collector_cpu_s = 0;  // user + system time of the collector process
  double client_cpu_s = 0;     // the same of all the seats (this process) during the storm
  int verify_exit = -1;
  std::string verify_line;
  // Where connections waited (lean TLS client only): the longest TCP connect (> 1 s means a
  // dropped SYN was resent), how many TCP connects took > 1 s, and the longest wait from the
  // TCP connection to the end of the TLS handshake (the accept queue plus the handshake).
  double max_tcp_connect_s = 0, max_tls_wait_s = 0;
  std::size_t slow_tcp_connects = 0;
  // The storm's namespace: limits in force, the deepest accept queue seen (and its limit),
  // and what its kernel counted (TcpExt ListenOverflows, ListenDrops, TCPReqQFullDrop ...).
  std::string listen_limits;
  std::size_t accept_queue_peak = 0, accept_queue_limit = 0;
  std::map<std::string, long long> kernel;

  bool only_200_429_503() const;
  bool stored_exactly_once() const { return stored_rows == expected && distinct_ids == expected; }
  std::string summary() const;  // a few lines for a report
};

StormResult run_storm(const StormOptions& opts);

}  // namespace seatlock::testing
