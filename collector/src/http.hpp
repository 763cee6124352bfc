#pragma once
// The server's request and response as handlers see them (plain strings, no Beast types), and
// the limits every request head is held to. Parsing: Beast's request_parser (beast_request.hpp,
// used by session.cpp and, for fuzzing, http_parse.hpp).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seatlock::collector {

class BodyPipe;  // body_pipe.hpp

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
  // After headers so that aggregate initialisers {status, body, headers} keep their meaning.
  std::string content_type = "application/json";
  // Set: the body is not `body` but what a producer writes into this pipe, sent with chunked
  // transfer encoding as it comes (exports); `body` is ignored.
  std::shared_ptr<BodyPipe> stream = nullptr;
};

// {"error": msg} (+ "line" when non-zero) as a response.
HttpResponse error_response(int status, const std::string& msg, int line = 0);

}  // namespace seatlock::collector
