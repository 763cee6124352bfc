// Collector: the HTTP request head as the server parses it (Beast's request_parser with the
// server's limits: collector/src/http_parse.hpp), as read from an unauthenticated TLS
// connection. Invariants: every header name of an accepted head is an RFC 9110 token (no white
// space before the colon: RFC 9112 section 5.1 requires a 400, since proxies and servers that
// disagree on "Transfer-Encoding : chunked" allow request smuggling); a head that parses,
// written out again in the normal form, parses to the same request.
#include <cctype>
#include <string>

#include "fuzz_support.hpp"
#include "http_parse.hpp"

using seatlock::collector::parse_request_bytes;

namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) ||
          std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto out = parse_request_bytes(bytes, 1 << 20);
  if (!out.head_done) return 0;
  const auto& req = out.request;
  for (const auto& [name, value] : req.headers)
    FUZZ_CHECK(is_token(name), "accepted a header whose name is not a token: \"" + name + "\"");
  (void)req.keep_alive();

  std::string again = req.method + " " + req.target + " " + req.version + "\r\n";
  for (const auto& [name, value] : req.headers) again += name + ": " + value + "\r\n";
  again += "\r\n";
  auto out2 = parse_request_bytes(again, 1 << 20);
  FUZZ_CHECK(out2.head_done, "re-parse failed: " + out2.error + "\nhead: " + again);
  FUZZ_CHECK(out2.request.method == req.method && out2.request.target == req.target &&
                 out2.request.version == req.version && out2.request.headers == req.headers,
             "re-parse differs\nhead: " + again);
  return 0;
}
