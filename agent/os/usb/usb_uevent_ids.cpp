#include "os/usb/usb_uevent_ids.hpp"

#include <charconv>
#include <cstdio>
#include <string_view>

namespace seatlock {

namespace {

// "a/b/c" with each field a number in `base` no larger than `max`; false otherwise.
bool parse_triple(std::string_view s, int base, unsigned max, std::array<unsigned, 3>& out) {
  const char* p = s.data();
  const char* end = s.data() + s.size();
  for (std::size_t i = 0; i < 3; ++i) {
    if (i > 0) {
      if (p == end || *p != '/') return false;
      ++p;
    }
    auto [next, ec] = std::from_chars(p, end, out[i], base);
    if (ec != std::errc() || next == p || out[i] > max) return false;
    p = next;
  }
  return p == end;
}

std::string hex4(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", v);
  return buf;
}

}  // namespace

UsbUeventIds usb_uevent_ids(const Uevent& ev) {
  UsbUeventIds ids;
  std::array<unsigned, 3> f{};
  if (parse_triple(ev.product, 16, 0xffff, f)) {  // the kernel writes "%x/%x/%x"
    ids.vid = hex4(f[0]);
    ids.pid = hex4(f[1]);
  }
  if (parse_triple(ev.type, 10, 0xff, f))  // "%d/%d/%d"
    ids.device_class = static_cast<std::uint8_t>(f[0]);
  if (parse_triple(ev.interface, 10, 0xff, f))
    ids.interface_class = std::array<std::uint8_t, 3>{static_cast<std::uint8_t>(f[0]),
                                                      static_cast<std::uint8_t>(f[1]),
                                                      static_cast<std::uint8_t>(f[2])};
  return ids;
}

std::optional<std::array<std::uint8_t, 3>> interface_class_of_modalias(
    const std::string& modalias) {
  constexpr std::size_t kTail = 17;  // "icXXiscXXipXXinXX"
  if (modalias.size() < kTail) return std::nullopt;
  const std::string_view t = std::string_view(modalias).substr(modalias.size() - kTail);
  if (t.substr(0, 2) != "ic" || t.substr(4, 3) != "isc" || t.substr(9, 2) != "ip" ||
      t.substr(13, 2) != "in")
    return std::nullopt;
  std::array<std::uint8_t, 3> out{};
  const std::size_t at[3] = {2, 7, 11};
  for (std::size_t i = 0; i < 3; ++i) {
    const char* b = t.data() + at[i];
    auto [next, ec] = std::from_chars(b, b + 2, out[i], 16);
    if (ec != std::errc() || next != b + 2) return std::nullopt;
  }
  return out;
}

}  // namespace seatlock
