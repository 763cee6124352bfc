#pragma once
// The server's request and response as handlers see them (plain strings, no Beast types), and
// the limits every request head is held to. Parsing: Beast's request_parser (beast_request.hpp,
// used by session.cpp and, for fuzzing, http_parse.hpp).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seatlock::collector {

inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;  // request line + header lines
inline constexpr std::size_t kMaxHeaderCount = 100;

struct HttpRequest {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // Value of the first header with this (lower-case) name, "" when absent.
  std::string header(std::string_view name) const;
  bool keep_alive() const;
};

struct HttpResponse {
  int status = 200;
  std::string body;  // JSON ("" for 204)
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error": msg} (+ "line" when non-zero) as a response.
HttpResponse error_response(int status, const std::string& msg, int line = 0);

}  // namespace seatlock::collector
