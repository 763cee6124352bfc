#pragma once
// `seatlock-collector serve`: TLS listener with admission control (conn_registry.hpp), one
// lightweight thread per connection (connection.hpp, HTTP/1.1 keep-alive), a single
// group-commit writer, graceful stop on SIGTERM/SIGINT.
#include <cstddef>
#include <string>

#include "conn_registry.hpp"
#include "connection.hpp"
#include "tls.hpp"

namespace seatlock::collector {

struct ServeOptions {
  std::string listen = "127.0.0.1:8443";
  std::string db, cert, key, ca;
  AuthMode auth = AuthMode::cert_or_token;
  ConnLimits limits;      // connection budgets (conn_registry.hpp)
  ConnTimeouts timeouts;  // absolute deadlines per phase (connection.hpp)
  std::size_t max_pending_events = 200000;
  int stats_interval_s = 10;  // a throughput line on stderr this often while events arrive
};

// Blocks until SIGTERM/SIGINT; returns the process exit code. Prints "listening <addr:port>"
// on stdout once accepting (port 0 = pick a free one).
int serve(const ServeOptions& opts);

}  // namespace seatlock::collector
