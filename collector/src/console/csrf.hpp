#pragma once
// CSRF protection of the console's state changes (every POST but /api/login):
// - the X-CSRF-Token header must equal the session's token, an HMAC of the session id under a
//   key made at process start (nothing to store; a restart ends the sessions anyway);
// - an Origin header, when the browser sends one, must be the console's own origin
//   ("https://" + the Host the browser addressed), so another site's form post is refused even
//   before the token is looked at. SameSite=Strict on the cookie is the third layer.
#include <string>

#include "http.hpp"

namespace seatlock::collector::console {

// Hex HMAC (libsodium crypto_auth) of the session id.
std::string csrf_token(const std::string& session_id);
// Constant-time comparison of the request's X-CSRF-Token with the session's token.
bool csrf_token_ok(const HttpRequest& req, const std::string& session_id);
// No Origin header, or Origin == "https://<Host>".
bool origin_ok(const HttpRequest& req);

}  // namespace seatlock::collector::console
