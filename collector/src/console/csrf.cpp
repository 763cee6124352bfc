#include "console/csrf.hpp"

#include <sodium.h>

#include <mutex>

#include "console/password.hpp"

namespace seatlock::collector::console {
namespace {

const unsigned char* process_key() {
  static unsigned char key[crypto_auth_KEYBYTES];
  static std::once_flag once;
  std::call_once(once, [] {
    ensure_sodium();
    crypto_auth_keygen(key);
  });
  return key;
}

}  // namespace

std::string csrf_token(const std::string& session_id) {
  unsigned char mac[crypto_auth_BYTES];
  crypto_auth(mac, reinterpret_cast<const unsigned char*>(session_id.data()), session_id.size(),
              process_key());
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

bool csrf_token_ok(const HttpRequest& req, const std::string& session_id) {
  std::string given = req.header("x-csrf-token");
  std::string want = csrf_token(session_id);
  return given.size() == want.size() && sodium_memcmp(given.data(), want.data(), want.size()) == 0;
}

bool origin_ok(const HttpRequest& req) {
  std::string origin = req.header("origin");
  if (origin.empty()) return true;
  std::string host = req.header("host");
  return !host.empty() && origin == "https://" + host;
}

}  // namespace seatlock::collector::console
