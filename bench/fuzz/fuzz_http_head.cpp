// Collector: the HTTP request head (collector/src/http.hpp parse_request_head), as read from an
// unauthenticated TLS connection. Invariants: every header name of an accepted head is an
// RFC 9110 token as sent (no white space before the colon: RFC 9112 section 5.1 requires a 400,
// since proxies and servers that disagree on "Transfer-Encoding : chunked" allow request
// smuggling); a head that parses, written out again in the normal form, parses to the same
// request.
#include <cctype>
#include <string>

#include "fuzz_support.hpp"
#include "http.hpp"

using seatlock::collector::HttpRequest;
using seatlock::collector::parse_request_head;

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
  std::string_view head(reinterpret_cast<const char*>(data), size);
  HttpRequest req;
  if (parse_request_head(head, req)) return 0;
  // The raw name of every header line the parser took (the lines after the request line).
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
    pos += 2;
    std::size_t end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end;
    if (line.empty()) continue;
    std::string_view name = line.substr(0, line.find(':'));
    if (!is_token(name) && seatlock::fuzz::tolerated("http-header-name")) return 0;
    FUZZ_CHECK(is_token(name),
               "accepted a header whose name is not a token: \"" + std::string(name) + "\"");
  }
  (void)req.keep_alive();
  (void)req.header("content-length");
  (void)req.header("transfer-encoding");

  std::string again = req.method + " " + req.target + " " + req.version + "\r\n";
  for (const auto& [name, value] : req.headers) again += name + ": " + value + "\r\n";
  HttpRequest req2;
  auto err = parse_request_head(again, req2);
  FUZZ_CHECK(!err, "re-parse failed: " + err.value_or("") + "\nhead: " + again);
  FUZZ_CHECK(req2.method == req.method && req2.target == req.target &&
                 req2.version == req.version && req2.headers == req.headers,
             "re-parse differs\nhead: " + again);
  return 0;
}
