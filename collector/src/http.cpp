#include "http.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace seatlock::collector {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
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

HttpResponse error_response(int status, const std::string& msg, int line) {
  nlohmann::json j = {{"error", msg}};
  if (line > 0) j["line"] = line;
  HttpResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace seatlock::collector
