#include "core/json/locator.hpp"

#include <algorithm>
#include <set>

namespace seatlock {

std::string json_pointer_escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

namespace {

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Recursive-descent walk over already-valid JSON. On anything unexpected it stops quietly:
// the locator then simply knows fewer positions (callers fall back to the parent's position).
class JsonScanner {
 public:
  JsonScanner(std::string_view t, JsonLocator& loc) : t_(t), loc_(loc) {}

  void run() {
    if (t_.substr(0, 3) == "\xEF\xBB\xBF") p_ = 3;  // UTF-8 byte order mark (nlohmann skips it too)
    skip_space();
    value("", std::nullopt, 0);
  }

 private:
  static constexpr int kMaxDepth = 256;
  std::string_view t_;
  JsonLocator& loc_;
  std::size_t p_ = 0;
  bool failed_ = false;

  bool at_end() const { return p_ >= t_.size(); }

  void skip_space() {
    while (!at_end()) {
      char c = t_[p_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++p_;
      } else if (c == '/' && p_ + 1 < t_.size() && t_[p_ + 1] == '/') {
        while (!at_end() && t_[p_] != '\n' && t_[p_] != '\r') ++p_;
      } else if (c == '/' && p_ + 1 < t_.size() && t_[p_ + 1] == '*') {
        std::size_t end = t_.find("*/", p_ + 2);
        p_ = end == std::string_view::npos ? t_.size() : end + 2;
      } else {
        return;
      }
    }
  }

  // Reads a string starting at the opening quote; returns the decoded text.
  std::string string() {
    std::string out;
    ++p_;  // opening quote
    while (!at_end()) {
      char c = t_[p_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) break;
      char e = t_[p_++];
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = read_hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && p_ + 1 < t_.size() && t_[p_] == '\\' &&
              t_[p_ + 1] == 'u') {
            p_ += 2;
            unsigned lo = read_hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          out += e;
          break;  // \" \\ \/
      }
    }
    failed_ = true;
    return out;
  }

  unsigned read_hex4() {
    unsigned v = 0;
    for (int i = 0; i < 4 && !at_end(); ++i) {
      int h = hex_value(t_[p_]);
      if (h < 0) {
        failed_ = true;
        return 0;
      }
      v = v * 16 + static_cast<unsigned>(h);
      ++p_;
    }
    return v;
  }

  void value(const std::string& ptr, std::optional<std::size_t> key_at, int depth) {
    if (at_end() || failed_ || depth > kMaxDepth) {
      failed_ = true;
      return;
    }
    auto& entry = loc_.entries_[ptr];
    entry.value = p_;
    entry.key = key_at;
    char c = t_[p_];
    if (c == '{') {
      object(ptr, depth);
    } else if (c == '[') {
      array(ptr, depth);
    } else if (c == '"') {
      string();
    } else {  // number, true, false, null
      while (!at_end() && std::string_view(",]} \t\r\n/").find(t_[p_]) == std::string_view::npos)
        ++p_;
    }
  }

  void object(const std::string& ptr, int depth) {
    ++p_;
    skip_space();
    std::set<std::string> seen;
    if (!at_end() && t_[p_] == '}') {
      ++p_;
      return;
    }
    while (!at_end() && !failed_) {
      if (t_[p_] != '"') break;
      std::size_t key_at = p_;
      std::string key = string();
      std::string child = ptr + "/" + json_pointer_escape(key);
      if (!seen.insert(key).second) loc_.duplicates_.push_back(child);
      skip_space();
      if (at_end() || t_[p_] != ':') break;
      ++p_;
      skip_space();
      value(child, key_at, depth + 1);
      skip_space();
      if (at_end()) break;
      if (t_[p_] == ',') {
        ++p_;
        skip_space();
        continue;
      }
      if (t_[p_] == '}') {
        ++p_;
        return;
      }
      break;
    }
    failed_ = true;
  }

  void array(const std::string& ptr, int depth) {
    ++p_;
    skip_space();
    if (!at_end() && t_[p_] == ']') {
      ++p_;
      return;
    }
    for (std::size_t i = 0; !at_end() && !failed_; ++i) {
      value(ptr + "/" + std::to_string(i), std::nullopt, depth + 1);
      skip_space();
      if (at_end()) break;
      if (t_[p_] == ',') {
        ++p_;
        skip_space();
        continue;
      }
      if (t_[p_] == ']') {
        ++p_;
        return;
      }
      break;
    }
    failed_ = true;
  }
};

JsonLocator::JsonLocator(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      line_starts_.push_back(i + 1);
    } else if (text[i] == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      line_starts_.push_back(i + 1);
    }
  }
  JsonScanner(text, *this).run();
}

TextPos JsonLocator::position_of(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());  // >= 1
  std::size_t start = line_starts_[line - 1];
  int column = 1;
  for (std::size_t i = start; i < offset; ++i) {
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80)
      ++column;  // skip UTF-8 continuations
  }
  return {static_cast<int>(line), column};
}

std::optional<TextPos> JsonLocator::value(const std::string& pointer) const {
  auto it = entries_.find(pointer);
  if (it == entries_.end()) return std::nullopt;
  return position_of(it->second.value);
}

std::optional<TextPos> JsonLocator::key(const std::string& pointer) const {
  auto it = entries_.find(pointer);
  if (it == entries_.end() || !it->second.key) return std::nullopt;
  return position_of(*it->second.key);
}

}  // namespace seatlock
