#pragma once
// The one place where a request head becomes a decision, for every endpoint of the server: the
// route table (method + path -> who may call it, how large a body it takes, which handler), and
// authentication (client-certificate CN or enrollment token). The session (session.cpp) asks
// admit() as soon as a head is read and reads a body only for an admitted route, within that
// route's limit: nobody gets a body byte buffered before authenticating.
//
// No Beast/Asio here: handlers see plain HttpRequest/HttpResponse and answer through a Respond
// callback, at once or later (a long-poll, a batch waiting for the writer's commit).
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http.hpp"
#include "store.hpp"
#include "tls.hpp"

namespace seatlock::collector {

// Answers a request; call exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;

enum class Access {
  open,  // anyone who completed the TLS handshake (e.g. /healthz)
  seat,  // an authenticated seat: verified client certificate or enrollment token
};

struct Route {
  std::string method;   // "GET" routes also answer HEAD
  std::string path;     // exact match (or prefix, below), query string ignored
  bool prefix = false;  // true: matches every path that starts with `path` (the console's)
  Access access = Access::seat;
  std::size_t max_body = 0;    // bytes after transfer decoding; larger answers 413
  std::string too_large = "";  // the 413 message ("" = a generic one)
  std::function<void(HttpRequest& req, const std::string& seat, const std::string& peer,
                     Respond respond)>
      handle;
  // A 4xx for an authenticated seat's request that never reached handle() (body too large,
  // malformed chunking, too slow): e.g. remembered for `seats`. Optional.
  std::function<void(const std::string& seat, const HttpResponse& refusal)> on_refused;
};

// What to do with a request whose head has been read.
struct Admission {
  const Route* route = nullptr;  // null: answer `response` and read no body
  std::string seat;              // the authenticated seat ("" for an open route)
  HttpResponse response;
};

class Router {
 public:
  Router(EventStore& store, AuthMode mode) : store_(store), mode_(mode) {}
  void add(Route route) { routes_.push_back(std::move(route)); }
  // Applied to every answer admit() gives without a route (404, 405), with the request's path:
  // the console adds its security headers (console/security_headers.hpp).
  void set_decorate(std::function<void(const std::string& path, HttpResponse&)> fn) {
    decorate_ = std::move(fn);
  }
  // peer_cn: the verified client-certificate CN, if any; `peer` names the client in log lines.
  Admission admit(const HttpRequest& head, const std::optional<std::string>& peer_cn,
                  const std::string& peer) const;
  // SIGHUP: the next request of every token is looked up in the store again.
  void forget_cached_tokens() const { store_.forget_cached_tokens(); }

 private:
  // The seat this request speaks for, or an error response (401/403). Tokens are looked up in
  // the store every time (SQLite: a revoked token stops working at once; ClickHouse answers
  // from a cache: within 2 seconds, see clickhouse_token_cache.hpp).
  std::optional<std::string> authenticate(const HttpRequest& req,
                                          const std::optional<std::string>& peer_cn,
                                          HttpResponse& error) const;

  EventStore& store_;
  AuthMode mode_;
  std::vector<Route> routes_;
  std::function<void(const std::string& path, HttpResponse&)> decorate_;
};

}  // namespace seatlock::collector
