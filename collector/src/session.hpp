#pragma once
// One client connection of the server (internal to server.cpp/session.cpp: Asio headers).
// Runs on its own strand: TLS handshake, then HTTP/1.1 requests until close. Every phase has an
// absolute deadline; a request head goes to the Router before any body byte is read.
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "conn_registry.hpp"
#include "router.hpp"

namespace seatlock::collector {

class Session;

// What all sessions share with the server.
struct SessionShared {
  const Router* router = nullptr;
  ConnRegistry* registry = nullptr;
  ConnTimeouts timeouts;
  std::atomic<bool> stopping{false};
  // Live sessions (the server drains them on SIGTERM).
  std::mutex mu;
  std::condition_variable cv;  // notified when `live` becomes empty
  std::unordered_map<ConnRegistry::Id, std::weak_ptr<Session>> live;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // Takes ownership of ssl. Call start() once, then the session keeps itself alive.
  static std::shared_ptr<Session> create(SessionShared& sh, boost::asio::ip::tcp::socket socket,
                                         SSL* ssl, ConnRegistry::Admitted admitted,
                                         std::string peer);
  virtual ~Session() = default;
  virtual void start(std::chrono::steady_clock::time_point accepted) = 0;
  // The server is stopping: a connection between requests closes now; one with a request in
  // flight closes after its answer. Thread-safe.
  virtual void stop() = 0;
};

}  // namespace seatlock::collector
