#pragma once
// `seatlock-collector serve`: an event-driven HTTPS server (Boost.Asio + Beast, OpenSSL): one
// io_context run by a few threads, one strand per connection (session.cpp), admission control
// (conn_registry.hpp), routing and authentication in one place (router.hpp), the single
// group-commit writer. SIGTERM/SIGINT: stop accepting, finish requests in flight, exit.
// SIGHUP: reload certificate, key and CA for new connections; open ones stay.
#include <cstddef>
#include <string>
#include <vector>

#include "conn_registry.hpp"
#include "tls.hpp"

namespace seatlock::collector {

struct ServeOptions {
  std::string listen = "127.0.0.1:8443";
  std::string db, cert, key, ca;
  std::vector<std::string> ek_ca_files;  // --ek-ca: vendor CAs for TPM EK certificates
  // --instance, --collector-key: the collector's own event chain (audit/collector_log.hpp);
  // "" = the defaults (host name; "<sqlite db>.collector.key").
  std::string collector_instance, collector_key;
  AuthMode auth = AuthMode::cert_or_token;
  ConnLimits limits;      // connection budgets (conn_registry.hpp)
  ConnTimeouts timeouts;  // absolute deadlines per phase (conn_registry.hpp)
  std::size_t max_pending_events = 200000;
  int threads = 0;            // I/O threads; 0 = one per core
  int max_poll_wait_s = 300;  // cap on GET /v1/policy?wait=
  std::string fleet_bundles;  // `fleet publish` output answering GET /v1/policy ("" = none)
  int stats_interval_s = 10;  // a throughput line on stderr this often while events arrive
  int drain_timeout_s = 30;   // SIGTERM: how long requests in flight may take to finish
  // The console (issue 15, docs/console.md): on its own TLS listener when console_listen is
  // set (same certificate and key, no client certificates requested, no /v1 routes), else on
  // the main listener. fleet_config: central_config.hpp's file for the fleet page ("" = the
  // packaged /etc/seatlock-collector/fleet.json when it exists, else no fleet).
  std::string console_listen;
  std::string fleet_config;
};

// Blocks until SIGTERM/SIGINT; returns the process exit code. Prints "listening <addr:port>"
// on stdout once accepting (port 0 = pick a free one).
int serve(const ServeOptions& opts);

}  // namespace seatlock::collector
