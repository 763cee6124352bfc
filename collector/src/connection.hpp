#pragma once
// One client connection of the ingest server, on its own thread: TLS handshake, then HTTP/1.1
// requests until close. Every phase has an absolute deadline (a byte now and then does not
// extend it), and a request body is read only after the request authenticated.
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <string>

#include "conn_registry.hpp"
#include "handler.hpp"

namespace seatlock::collector {

struct ConnTimeouts {
  int handshake_s = 10;  // TCP accept -> TLS handshake complete
  int head_s = 10;       // first byte of a request -> its head complete; for a connection that
                         // has not authenticated: handshake complete -> head complete
  int body_s = 60;       // head complete -> body complete; also for sending a response
  int idle_s = 60;       // an authenticated keep-alive connection waiting for its next request
};

struct ConnContext {
  SSL_CTX* ctx = nullptr;
  RequestHandler* handler = nullptr;
  ConnRegistry* registry = nullptr;
  ConnTimeouts timeouts;
  const std::atomic<bool>* stopping = nullptr;
};

// Runs the connection to its end, then removes it from the registry and closes fd.
void serve_connection(const ConnContext& cx, int fd, ConnRegistry::Id id, const std::string& peer,
                      std::chrono::steady_clock::time_point accepted);

}  // namespace seatlock::collector
