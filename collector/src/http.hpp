#pragma once
// Minimal HTTP/1.1 for the ingest endpoint: request-head parsing, chunked decoding and response
// formatting. Pure string functions; the connection code (server.cpp) does the I/O.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seatlock::collector {

struct HttpRequest {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // Value of the first header with this (lower-case) name, "" when absent.
  std::string header(std::string_view name) const;
  bool keep_alive() const;
};

// Parses "METHOD target HTTP/1.x\r\nName: value\r\n..." (without the final empty line).
// Returns an error text on malformed input.
std::optional<std::string> parse_request_head(std::string_view head, HttpRequest& out);

// Incremental decoder for Transfer-Encoding: chunked. feed() consumes from `in` what it can.
class ChunkedDecoder {
 public:
  enum class State { more, done, error };
  State feed(std::string& in, std::string& out, std::size_t max_body);
  const std::string& error() const { return error_; }

 private:
  enum class Phase { size, data, data_crlf, trailer } phase_ = Phase::size;
  std::size_t remaining_ = 0;
  std::string error_;
};

struct HttpResponse {
  int status = 200;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

std::string format_response(const HttpResponse& r, bool keep_alive);
const char* status_text(int status);

// {"error": msg} (+ "line" when non-zero) as a response.
HttpResponse error_response(int status, const std::string& msg, int line = 0);

}  // namespace seatlock::collector
