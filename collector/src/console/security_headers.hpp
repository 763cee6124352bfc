#pragma once
// The headers every console response carries (pages, files, API answers and their errors):
// a CSP without inline script or style, no framing, HSTS, no MIME sniffing, no referrer, and
// no caching of API answers (they hold audit data).
#include <string_view>

#include "http.hpp"

namespace seatlock::collector::console {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// Adds the headers (idempotent: a header already present is not added twice). `api`: an
// /api/* answer (Cache-Control: no-store).
void add_security_headers(HttpResponse& r, bool api);

// "/", "/console..." or "/api/...": a path the console answers.
bool is_console_path(std::string_view path);

}  // namespace seatlock::collector::console
