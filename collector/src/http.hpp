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

inline constexpr std::size_t kMaxHeaderCount = 100;
inline constexpr std::size_t kMaxChunkLine = 1024;      // chunk-size line, extensions included
inline constexpr std::size_t kMaxTrailerBytes = 16384;  // all trailer lines together

// Parses "METHOD target HTTP/1.x\r\nName: value\r\n..." (without the final empty line).
// Returns an error text on malformed input (also for more than kMaxHeaderCount headers).
std::optional<std::string> parse_request_head(std::string_view head, HttpRequest& out);

// Content-Length: decimal digits only, no sign or spaces, no overflow.
std::optional<std::size_t> parse_content_length(std::string_view text);

// Incremental decoder for Transfer-Encoding: chunked. feed() consumes from `in` what it can.
// Sizes are checked without overflow against max_body; a line (chunk size, CRLF after data,
// trailer) that does not end within its cap is an error, so `in` never grows unbounded.
class ChunkedDecoder {
 public:
  enum class State { more, done, error };
  State feed(std::string& in, std::string& out, std::size_t max_body);
  const std::string& error() const { return error_; }
  bool too_large() const { return too_large_; }  // the error is the body limit (413)

 private:
  State fail(std::string msg, bool too_large = false);
  enum class Phase { size, data, data_crlf, trailer } phase_ = Phase::size;
  std::size_t remaining_ = 0;
  std::size_t trailer_bytes_ = 0;
  bool too_large_ = false;
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
