#pragma once
// What the server's request parser (Beast, configured as in session.cpp: beast_request.hpp)
// makes of bytes arriving on a connection, without a socket: for fuzz targets and tests.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "http.hpp"

namespace seatlock::collector {

struct ParseOutcome {
  enum class State { more, done, error } state = State::more;
  bool head_done = false;    // the head parsed (request has method, target, headers)
  HttpRequest request;       // head, and the body once done
  std::string error;         // why, when error
  bool too_large = false;    // the error is a limit: head (431) or body (413)
  std::size_t consumed = 0;  // bytes used; what follows belongs to the next request
};

// Feeds `bytes` in pieces of the given sizes (the last piece takes the rest) as TCP would
// deliver them. The body limit applies after the head, as for an admitted route.
ParseOutcome parse_request_bytes(std::string_view bytes, std::size_t max_body,
                                 const std::vector<std::size_t>& pieces = {});

}  // namespace seatlock::collector
