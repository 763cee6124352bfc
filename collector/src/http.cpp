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
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return "malformed header line";
    out.headers.emplace_back(lower(trim(line.substr(0, colon))),
                             std::string(trim(line.substr(colon + 1))));
  }
  return std::nullopt;
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
      if (e == std::string::npos) return finish(State::more);
      std::string_view line(in.data() + pos, e - pos);
      pos = e + 2;
      if (phase_ == Phase::data_crlf) {
        if (!line.empty()) {
          error_ = "malformed chunk";
          return finish(State::error);
        }
        phase_ = Phase::size;
        continue;
      }
      if (phase_ == Phase::trailer) {
        if (line.empty()) return finish(State::done);
        continue;  // trailer headers are ignored
      }
      size_t semi = line.find(';');
      std::string_view hex = trim(line.substr(0, semi));
      size_t n = 0;
      auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
      if (hex.empty() || ec != std::errc() || p != hex.data() + hex.size()) {
        error_ = "malformed chunk size";
        return finish(State::error);
      }
      if (n == 0) {
        phase_ = Phase::trailer;
        continue;
      }
      if (out.size() + n > max_body) {
        error_ = "too large";
        return finish(State::error);
      }
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
