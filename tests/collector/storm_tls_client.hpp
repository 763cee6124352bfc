#pragma once
// The lean side of the reconnect storm: all seats on one thread, raw OpenSSL on non-blocking
// sockets and one epoll, one SSL_CTX with the CA parsed once. libcurl builds a TLS context
// per connection (~2 ms CPU with OpenSSL 3.0), which on 2 cores made the 10,000-seat client,
// not the collector, the bottleneck. The seats keep the agent's sender behaviour
// (agent/os/delivery/http_post.cpp, sender.cpp): a new connection and full handshake per
// POST (no session resumption), connect timeout 10 s including the TLS handshake (as
// CURLOPT_CONNECTTIMEOUT), whole request 60 s, 429/503 -> wait exactly Retry-After and resend
// the batch, a failed connection -> back off 1, 2, 4 ... s drawn from [d/2, d].
#include <string>
#include <vector>

#include "seat_sim.hpp"
#include "storm_client.hpp"

namespace seatlock::testing {

struct StormSeat {
  std::vector<Post> posts;
  std::vector<std::string> bodies;  // gzip of posts[i].body
  std::string token, source;        // bearer token; the seat's own 127.1.x.y
};

struct StormTarget {
  int port = 0;  // on 127.0.0.1
  std::string ca;
  double give_up_s = 0;           // 0 = until every seat is done
  double connect_timeout_s = 10;  // TCP + TLS, as the agent's CURLOPT_CONNECTTIMEOUT
};

// Plays every seat until its backlog is acknowledged (or give_up_s). Adds to r: by_status,
// transport_errors (by reason: TCP vs TLS phase of the connect timeout), acked, duplicates,
// seats_done, connections, first_non_200, without_retry_after. `finished`: seconds from the
// start when each seat was done.
void run_tls_seats(const std::vector<StormSeat>& seats, const StormTarget& target, StormResult& r,
                   std::vector<double>& finished);

}  // namespace seatlock::testing
