#pragma once
// The one configuration of Beast's request parser and the conversion of its message to an
// HttpRequest, shared by the server (session.cpp) and the fuzzing entry (http_parse.cpp) so
// that what is fuzzed is what serves. Internal: Beast headers.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>

#include "http.hpp"

namespace seatlock::collector {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Head limit; no body limit yet: it is set per route once the head is admitted (a client that
// has not authenticated is not told that its Content-Length is too large, but to authenticate).
inline void configure_for_head(RequestParser& p) {
  p.header_limit(kMaxHeadBytes);
  p.body_limit(boost::none);
}

// Bytes a connection may have buffered but not parsed: bounds a chunk-size line or trailer that
// never ends (Beast's chunk parser relies on the buffer's limit for that).
inline constexpr std::size_t kMaxUnparsedBytes = 64 * 1024;

// Framing Beast accepts but the server refuses (400): a transfer coding other than plain
// "chunked" (the body would be framed differently by another parser: request smuggling).
inline std::string framing_error(const HttpRequest& req) {
  std::string te = req.header("transfer-encoding");
  for (char& c : te) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!te.empty() && te != "chunked")
    return "Transfer-Encoding: only chunked is supported, got \"" + te + "\"";
  return {};
}

inline HttpRequest to_http_request(const RequestParser::value_type& m) {
  HttpRequest req;
  req.method = std::string(m.method_string());
  req.target = std::string(m.target());
  req.version = m.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  for (const auto& f : m) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  return req;
}

}  // namespace seatlock::collector
