#pragma once
// JSON from untrusted sources (collector ingest, the control socket, policy files) is parsed
// through this one function: the size and the nesting depth are checked on the raw text before
// nlohmann builds a tree, so a document nested thousands deep is refused instead of building a
// tree that a recursive copy or dump would later walk off the end of a thread's stack.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace seatlock {

struct JsonLimits {
  std::size_t max_depth = 64;        // the outermost array/object is depth 1
  std::size_t max_bytes = 1u << 20;  // text longer than this is refused unread
  bool allow_comments = false;       // "//" and "/* */" (policy files)
};

struct JsonParseFailure {
  enum class Kind { too_large, too_deep, syntax } kind = Kind::syntax;
  std::size_t byte = 0;  // offset in the text where the problem was found
  std::string message;   // e.g. "nesting deeper than 64 levels at byte 65"
};

// Parses `text` into `out`. On failure `out` is left null and the reason is returned; for
// syntax errors the message is nlohmann's what() and `byte` its position.
std::optional<JsonParseFailure> parse_json_bounded(std::string_view text, nlohmann::json& out,
                                                   const JsonLimits& limits = {});

// Offset of the first byte at which `text` nests deeper than max_depth, if any. Strings (and
// comments when allowed) are skipped; the scan is iterative and O(size).
std::optional<std::size_t> json_depth_exceeded(std::string_view text, std::size_t max_depth,
                                               bool allow_comments);

}  // namespace seatlock
