#include "core/util/utf8.hpp"

#include <nlohmann/json.hpp>

namespace seatlock {

std::string valid_utf8(std::string_view s) {
  // nlohmann's serializer already implements the replacement rule; reuse it instead of a second
  // hand-written decoder. The round trip costs a copy, and only runs on short strings.
  using nlohmann::json;
  return json::parse(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace))
      .get<std::string>();
}

}  // namespace seatlock
