#pragma once
// Maps JSON pointers to the line and column where each value (and each object member's key)
// starts in the original text. nlohmann's parser does not report positions, so this scanner
// walks text that nlohmann has already accepted (with comments allowed) a second time.
// Lines end at "\n", "\r\n" or a lone "\r"; columns count Unicode code points, 1-based.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seatlock {

struct TextPos {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
  bool operator==(const TextPos&) const = default;
};

// "a/b" -> "a~1b", "m~n" -> "m~0n" (RFC 6901).
std::string json_pointer_escape(std::string_view key);

class JsonLocator {
 public:
  explicit JsonLocator(std::string_view text);

  // Where the value at `pointer` starts ("" = the whole document).
  std::optional<TextPos> value(const std::string& pointer) const;
  // Where the key of the object member at `pointer` starts (nullopt for array elements).
  std::optional<TextPos> key(const std::string& pointer) const;
  // Pointers of object members whose key already appeared earlier in the same object
  // (nlohmann silently keeps the last one; a policy must not).
  const std::vector<std::string>& duplicate_keys() const { return duplicates_; }

  // Line and column of a byte offset into the text given to the constructor.
  TextPos position_of(std::size_t offset) const;

 private:
  struct Entry {
    std::size_t value = 0;
    std::optional<std::size_t> key;
  };
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> duplicates_;

  friend class JsonScanner;
};

}  // namespace seatlock
