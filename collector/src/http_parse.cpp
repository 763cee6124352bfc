#include "http_parse.hpp"

#include <algorithm>

#include "beast_request.hpp"

namespace seatlock::collector {

namespace http = boost::beast::http;

ParseOutcome parse_request_bytes(std::string_view bytes, std::size_t max_body,
                                 const std::vector<std::size_t>& pieces) {
  ParseOutcome out;
  RequestParser parser;
  configure_for_head(parser);
  std::string buf;  // received, not yet consumed by the parser
  std::size_t fed = 0;
  for (std::size_t i = 0; i <= pieces.size() && fed < bytes.size(); ++i) {
    std::size_t n =
        i < pieces.size() ? std::min(pieces[i], bytes.size() - fed) : bytes.size() - fed;
    buf.append(bytes.substr(fed, n));
    fed += n;
    while (!buf.empty() && !parser.is_done()) {
      boost::system::error_code ec;
      std::size_t used = parser.put(boost::asio::buffer(buf), ec);
      if (ec == http::error::need_more) {
        if (buf.size() > kMaxUnparsedBytes) {  // what the server's read buffer would refuse
          out.state = ParseOutcome::State::error;
          out.error = "chunk-size line or trailer exceeds 64 KiB";
          return out;
        }
        break;
      }
      if (ec) {
        out.state = ParseOutcome::State::error;
        out.error = ec.message();
        out.too_large = ec == http::error::header_limit || ec == http::error::body_limit;
        return out;
      }
      buf.erase(0, used);
      out.consumed += used;
      if (parser.is_header_done() && !out.head_done) {
        out.head_done = true;
        out.request = to_http_request(parser.get());
        if (std::string why = framing_error(out.request); !why.empty()) {
          out.state = ParseOutcome::State::error;
          out.error = why;
          return out;
        }
        auto length = parser.content_length();
        if (length && *length > max_body) {
          out.state = ParseOutcome::State::error;
          out.error = "body exceeds the limit";
          out.too_large = true;
          return out;
        }
        parser.body_limit(max_body);
      }
      if (used == 0) break;
    }
    if (parser.is_done()) break;
  }
  if (parser.is_done()) {
    out.state = ParseOutcome::State::done;
    out.request.body = parser.get().body();
  }
  return out;
}

}  // namespace seatlock::collector
