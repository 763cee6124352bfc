#include "http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace seatlock::collector {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 5.6.2 token characters.
bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && kExtra.find(static_cast<char>(c)) == std::string_view::npos)
      return false;
  return true;
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

bool HttpRequest::keep_alive() const {
  std::string c = lower(header("connection"));
  if (version == "HTTP/1.0") return c.find("keep-alive") != std::string::npos;
  return c.find("close") == std::string::npos;
}

std::optional<std::string> parse_request_head(std::string_view head, HttpRequest& out) {
  size_t eol = head.find("\r\n");
  std::string_view first = head.substr(0, eol);
  size_t a = first.find(' ');
  size_t b = a == std::string_view::npos ? a : first.find(' ', a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) return "malformed request line";
  out.method = std::string(first.substr(0, a));
  out.target = std::string(first.substr(a + 1, b - a - 1));
  out.version = std::string(first.substr(b + 1));
  if (out.version != "HTTP/1.1" && out.version != "HTTP/1.0") return "unsupported HTTP version";
  out.headers.clear();
  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    std::string_view line =
        head.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos);
    pos = e == std::string_view::npos ? head.size() : e + 2;
    if (line.empty()) continue;
    if (out.headers.size() >= kMaxHeaderCount)
      return "more than " + std::to_string(kMaxHeaderCount) + " header lines";
    // RFC 9112 5.1/5.2: the name is a token right up to the colon (no white space before it),
    // and obsolete line folding is refused: a proxy and the collector that read such a head
    // differently allow request smuggling ("Transfer-Encoding : chunked").
    if (line.front() == ' ' || line.front() == '\t') return "obsolete line folding in the head";
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return "malformed header line";
    if (!is_token(line.substr(0, colon))) return "malformed header name";
    out.headers.emplace_back(lower(line.substr(0, colon)),
                             std::string(trim(line.substr(colon + 1))));
  }
  return std::nullopt;
}

std::optional<std::size_t> parse_content_length(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n, 10);
  if (ec != std::errc() || p != text.data() + text.size() || text.front() == '+')
    return std::nullopt;  // from_chars rejects '-' and overflow (result_out_of_range) itself
  return n;
}

ChunkedDecoder::State ChunkedDecoder::fail(std::string msg, bool too_large) {
  error_ = std::move(msg);
  too_large_ = too_large;
  return State::error;
}

ChunkedDecoder::State ChunkedDecoder::feed(std::string& in, std::string& out,
                                           std::size_t max_body) {
  size_t pos = 0;
  auto finish = [&](State s) {
    in.erase(0, pos);
    return s;
  };
  while (true) {
    if (phase_ == Phase::size || phase_ == Phase::data_crlf || phase_ == Phase::trailer) {
      size_t e = in.find("\r\n", pos);
      if (e == std::string::npos) {
        // No line end yet: only a bounded amount may wait for one.
        std::size_t pending = in.size() - pos;
        if (phase_ == Phase::size && pending > kMaxChunkLine + 1)  // + its "\r"
          return finish(
              fail("chunk size line exceeds " + std::to_string(kMaxChunkLine) + " bytes"));
        if (phase_ == Phase::data_crlf && pending >= 2)
          return finish(fail("malformed chunk: data longer than its size"));
        if (phase_ == Phase::trailer && trailer_bytes_ + pending > kMaxTrailerBytes)
          return finish(
              fail("chunked trailer exceeds " + std::to_string(kMaxTrailerBytes) + " bytes"));
        return finish(State::more);
      }
      std::string_view line(in.data() + pos, e - pos);
      pos = e + 2;
      if (phase_ == Phase::data_crlf) {
        if (!line.empty()) return finish(fail("malformed chunk: data longer than its size"));
        phase_ = Phase::size;
        continue;
      }
      if (phase_ == Phase::trailer) {
        if (line.empty()) return finish(State::done);
        trailer_bytes_ += line.size() + 2;
        if (trailer_bytes_ > kMaxTrailerBytes)
          return finish(
              fail("chunked trailer exceeds " + std::to_string(kMaxTrailerBytes) + " bytes"));
        continue;  // trailer headers are ignored
      }
      if (line.size() > kMaxChunkLine)
        return finish(fail("chunk size line exceeds " + std::to_string(kMaxChunkLine) + " bytes"));
      size_t semi = line.find(';');
      std::string_view hex = trim(line.substr(0, semi));
      size_t n = 0;
      auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
      if (ec == std::errc::result_out_of_range)
        return finish(fail("chunk size exceeds the body limit", true));
      if (hex.empty() || ec != std::errc() || p != hex.data() + hex.size())
        return finish(fail("malformed chunk size"));
      if (n == 0) {
        phase_ = Phase::trailer;
        continue;
      }
      // out.size() <= max_body always holds here, so this cannot wrap (n may be 2^64-1).
      if (n > max_body - std::min(out.size(), max_body))
        return finish(fail("chunk size exceeds the body limit", true));
      remaining_ = n;
      phase_ = Phase::data;
    }
    if (phase_ == Phase::data) {
      size_t take = std::min(remaining_, in.size() - pos);
      out.append(in, pos, take);
      pos += take;
      remaining_ -= take;
      if (remaining_ > 0) return finish(State::more);
      phase_ = Phase::data_crlf;
    }
  }
}

const char* status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 408:
      return "Request Timeout";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string format_response(const HttpResponse& r, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + status_text(r.status) + "\r\n";
  out +=
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

HttpResponse error_response(int status, const std::string& msg, int line) {
  nlohmann::json j = {{"error", msg}};
  if (line > 0) j["line"] = line;
  HttpResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace seatlock::collector
