#include "core/json/bounded_parse.hpp"

namespace seatlock {

std::optional<std::size_t> json_depth_exceeded(std::string_view t, std::size_t max_depth,
                                               bool allow_comments) {
  std::size_t depth = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '"') {
      // Skip the string; a backslash always escapes the next byte.
      for (++i; i < t.size() && t[i] != '"'; ++i)
        if (t[i] == '\\') ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    } else if (allow_comments && c == '/' && i + 1 < t.size() && t[i + 1] == '/') {
      while (i < t.size() && t[i] != '\n' && t[i] != '\r') ++i;
    } else if (allow_comments && c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
      std::size_t end = t.find("*/", i + 2);
      i = end == std::string_view::npos ? t.size() : end + 1;
    }
  }
  return std::nullopt;
}

std::optional<JsonParseFailure> parse_json_bounded(std::string_view text, nlohmann::json& out,
                                                   const JsonLimits& limits) {
  out = nullptr;
  if (text.size() > limits.max_bytes)
    return JsonParseFailure{JsonParseFailure::Kind::too_large, limits.max_bytes,
                            "JSON text of " + std::to_string(text.size()) +
                                " bytes exceeds the limit of " + std::to_string(limits.max_bytes) +
                                " bytes"};
  if (auto at = json_depth_exceeded(text, limits.max_depth, limits.allow_comments))
    return JsonParseFailure{JsonParseFailure::Kind::too_deep, *at,
                            "JSON nests deeper than " + std::to_string(limits.max_depth) +
                                " levels (at byte " + std::to_string(*at + 1) + ")"};
  try {
    out = nlohmann::json::parse(text.begin(), text.end(), nullptr, true, limits.allow_comments);
  } catch (const nlohmann::json::parse_error& e) {
    out = nullptr;
    return JsonParseFailure{JsonParseFailure::Kind::syntax, e.byte, e.what()};
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range 406 for a number like 1e400: bad input, not a crash.
    out = nullptr;
    return JsonParseFailure{JsonParseFailure::Kind::syntax, 0, e.what()};
  }
  return std::nullopt;
}

}  // namespace seatlock
