#include "console/security_headers.hpp"

#include <algorithm>
#include <string>

namespace seatlock::collector::console {

void add_security_headers(HttpResponse& r, bool api) {
  auto put = [&](const char* name, std::string_view value) {
    bool present = std::any_of(r.headers.begin(), r.headers.end(),
                               [&](const auto& h) { return h.first == name; });
    if (!present) r.headers.emplace_back(name, std::string(value));
  };
  put("Content-Security-Policy", kContentSecurityPolicy);
  put("Strict-Transport-Security", "max-age=31536000");
  put("X-Content-Type-Options", "nosniff");
  put("X-Frame-Options", "DENY");
  put("Referrer-Policy", "no-referrer");
  put("Cache-Control", api ? "no-store" : "no-cache");
}

bool is_console_path(std::string_view path) {
  return path == "/" || path.substr(0, 8) == "/console" || path.substr(0, 5) == "/api/";
}

}  // namespace seatlock::collector::console
