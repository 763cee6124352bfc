#include "router.hpp"

#include <cstdio>

#include "audit/collector_log.hpp"
#include "core/util/digest.hpp"

namespace seatlock::collector {

std::optional<std::string> Router::authenticate(const HttpRequest& req,
                                                const std::optional<std::string>& peer_cn,
                                                HttpResponse& error) const {
  std::optional<std::string> cert_seat = mode_ == AuthMode::tokens_only ? std::nullopt : peer_cn;
  std::optional<std::string> token_seat;
  std::string auth = req.header("authorization");
  if (!auth.empty()) {
    if (auth.rfind("Bearer ", 0) != 0) {
      error = error_response(401, "Authorization: expected \"Bearer <enrollment token>\"");
      return std::nullopt;
    }
    token_seat = store_.seat_for_token(sha256_hex(auth.substr(7)));
    if (!token_seat) {
      error = error_response(401, "unknown or revoked enrollment token");
      return std::nullopt;
    }
  }
  if (cert_seat && token_seat && *cert_seat != *token_seat) {
    error = error_response(403, "client certificate is for seat \"" + *cert_seat +
                                    "\" but the token is for seat \"" + *token_seat + "\"");
    return std::nullopt;
  }
  // "collector:..." chains are written only by the collector itself (audit/collector_log.hpp):
  // no seat may authenticate as one and append to them.
  if (const auto& who = cert_seat ? cert_seat : token_seat;
      who && who->rfind(audit::kCollectorChainPrefix, 0) == 0) {
    error = error_response(403, "\"" + *who + "\" is a collector chain, not a seat");
    return std::nullopt;
  }
  if (cert_seat) return cert_seat;
  if (token_seat) return token_seat;
  error = error_response(
      401, mode_ == AuthMode::tokens_only
               ? "an enrollment token is required (Authorization: Bearer <token>)"
               : "a client certificate signed by the seats CA or an enrollment token is required");
  error.headers.emplace_back("WWW-Authenticate", "Bearer");
  return std::nullopt;
}

Admission Router::admit(const HttpRequest& req, const std::optional<std::string>& peer_cn,
                        const std::string& peer) const {
  Admission a;
  std::string path = req.target.substr(0, req.target.find('?'));
  const Route* match = nullptr;
  std::string allow;
  for (const Route& r : routes_) {
    if (r.prefix ? path.rfind(r.path, 0) != 0 : r.path != path) continue;
    if (r.method == req.method || (r.method == "GET" && req.method == "HEAD")) {
      match = &r;
      break;
    }
    allow += (allow.empty() ? "" : ", ") + r.method;
  }
  if (!match) {
    if (allow.empty()) {
      a.response = error_response(404, "no such endpoint: " + path);
    } else {
      a.response = error_response(405, "use " + allow + " " + path);
      a.response.headers.emplace_back("Allow", allow);
    }
    if (decorate_) decorate_(path, a.response);
    return a;
  }
  if (match->access == Access::seat) {
    auto seat = authenticate(req, peer_cn, a.response);
    if (!seat) {
      std::fprintf(stderr, "seatlock-collector: %s: %d %s\n", peer.c_str(), a.response.status,
                   a.response.body.c_str());
      return a;
    }
    a.seat = *seat;
  }
  a.route = match;
  return a;
}

}  // namespace seatlock::collector
