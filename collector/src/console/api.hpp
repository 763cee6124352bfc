#pragma once
// What every console API function is given: the request already parsed by the server, with the
// logged-in account (c-server fills it after checking the session).
#include <map>
#include <string>
#include <string_view>

namespace seatlock::collector::console {

struct ApiRequest {
  std::string method, path;                  // "GET", "/api/events"
  std::map<std::string, std::string> query;  // URL-decoded query parameters
  std::string body;                          // POST body (JSON)
  std::string account, role, lang;           // logged-in account; role auditor|admin; lang en|zh-CN
  std::string peer;                          // client address (for audit events)
};

// "/x?a=1&b=%20" -> {a:"1", b:" "}. '+' decodes to a space; a malformed %-escape is kept as is;
// a repeated name keeps its last value.
std::map<std::string, std::string> parse_query(std::string_view target);

}  // namespace seatlock::collector::console
