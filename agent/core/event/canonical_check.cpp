#include "core/event/canonical_check.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "core/event/event.hpp"

namespace seatlock {
namespace {

using Scan = CanonicalScan;

// One pass over text that nlohmann already accepted as JSON (so the grammar is valid: only the
// canonical details are checked).
class CanonicalScanner {
 public:
  CanonicalScanner(std::string_view t, std::size_t max_depth) : t_(t), max_depth_(max_depth) {}

  Scan run() {
    while (i_ < t_.size()) {
      char c = t_[i_];
      switch (c) {
        case '{':
        case '[':
          if (open_.size() >= max_depth_) return Scan::unsure;
          open_.push_back(Frame{c == '[', false, {}});
          expect_key_ = c == '{';
          ++i_;
          break;
        case '}':
        case ']':
          if (open_.empty()) return Scan::unsure;
          open_.pop_back();
          expect_key_ = false;
          ++i_;
          break;
        case ',':
          expect_key_ = !open_.empty() && !open_.back().is_array;
          ++i_;
          break;
        case ':':
          ++i_;
          break;
        case '"': {
          std::string_view s;
          if (!string_body(s)) return Scan::unsure;
          if (expect_key_) {
            Frame& f = open_.back();
            // Strictly ascending: sorted as a std::map sorts, and no duplicate (nlohmann keeps
            // one of two equal keys, so the text would not round-trip).
            if (f.has_key && !(std::string_view(f.last_key) < s)) return Scan::not_canonical;
            f.last_key.assign(s.data(), s.size());
            f.has_key = true;
            expect_key_ = false;
          }
          break;
        }
        case 't':
        case 'f':
        case 'n':
          // true / false / null: valid JSON already, written the same way.
          while (i_ < t_.size() && t_[i_] >= 'a' && t_[i_] <= 'z') ++i_;
          break;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            Scan n = number();
            if (n != Scan::canonical) return n;
            break;
          }
          // White space (or anything else) outside strings: never in canonical bytes.
          return Scan::not_canonical;
      }
    }
    return Scan::canonical;
  }

 private:
  struct Frame {
    bool is_array = false;
    bool has_key = false;
    std::string last_key;
  };

  // Printable ASCII without escapes only; leaves i_ after the closing quote.
  bool string_body(std::string_view& out) {
    std::size_t start = ++i_;
    while (i_ < t_.size()) {
      unsigned char c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') {
        out = t_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c > 0x7e) return false;
      ++i_;
    }
    return false;
  }

  // An integer as nlohmann writes it back: no fraction/exponent, not "-0", and short enough to
  // fit its 64-bit integer types (19 digits always do).
  Scan number() {
    std::size_t start = i_;
    if (t_[i_] == '-') ++i_;
    std::size_t digits = i_;
    while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    std::size_t n = i_ - digits;
    if (i_ < t_.size() && (t_[i_] == '.' || t_[i_] == 'e' || t_[i_] == 'E')) return Scan::unsure;
    if (n == 0 || n > 18) return Scan::unsure;
    if (t_[start] == '-' && n == 1 && t_[digits] == '0') return Scan::not_canonical;  // -0
    return Scan::canonical;
  }

  std::string_view t_;
  std::size_t max_depth_;
  std::size_t i_ = 0;
  std::vector<Frame> open_;  // open objects and arrays, innermost last
  bool expect_key_ = false;
};

}  // namespace

CanonicalScan scan_canonical(std::string_view text, std::size_t max_depth) {
  return CanonicalScanner(text, max_depth).run();
}

bool is_canonical_text(std::string_view text, const nlohmann::json& parsed) {
  switch (CanonicalScanner(text, SIZE_MAX).run()) {
    case Scan::canonical:
      return true;
    case Scan::not_canonical:
      return false;
    case Scan::unsure:
      break;
  }
  try {
    return canonical_bytes(parsed) == text;
  } catch (const nlohmann::json::exception&) {
    return false;  // not serialisable strictly (invalid UTF-8): not canonical
  }
}

}  // namespace seatlock
