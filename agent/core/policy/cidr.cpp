#include "core/policy/cidr.hpp"

#include <cstdio>
#include <vector>

namespace seatlock {
namespace {

std::optional<std::array<std::uint8_t, 4>> parse_v4(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  std::size_t p = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (p >= s.size() || s[p] != '.') return std::nullopt;
      ++p;
    }
    std::size_t start = p;
    unsigned v = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9' && p - start < 3)
      v = v * 10 + static_cast<unsigned>(s[p++] - '0');
    std::size_t len = p - start;
    if (len == 0 || v > 255) return std::nullopt;
    if (len > 1 && s[start] == '0') return std::nullopt;  // "010" is octal to some parsers: refuse
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  }
  if (p != s.size()) return std::nullopt;
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses a sequence of ':'-separated 16-bit groups (no "::" inside); an embedded IPv4 tail is
// allowed when allow_v4_tail.
bool parse_groups(std::string_view s, bool allow_v4_tail, std::vector<std::uint16_t>& out) {
  if (s.empty()) return true;
  std::size_t p = 0;
  while (true) {
    std::size_t end = s.find(':', p);
    std::string_view g =
        s.substr(p, end == std::string_view::npos ? std::string_view::npos : end - p);
    if (end == std::string_view::npos && allow_v4_tail && g.find('.') != std::string_view::npos) {
      auto v4 = parse_v4(g);
      if (!v4) return false;
      out.push_back(static_cast<std::uint16_t>((*v4)[0] << 8 | (*v4)[1]));
      out.push_back(static_cast<std::uint16_t>((*v4)[2] << 8 | (*v4)[3]));
      return true;
    }
    if (g.empty() || g.size() > 4) return false;
    unsigned v = 0;
    for (char c : g) {
      int h = hex_digit(c);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    out.push_back(static_cast<std::uint16_t>(v));
    if (end == std::string_view::npos) return true;
    p = end + 1;
  }
}

std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view s) {
  std::vector<std::uint16_t> head, tail;
  std::size_t dc = s.find("::");
  if (dc != std::string_view::npos) {
    if (s.find("::", dc + 1) != std::string_view::npos) return std::nullopt;
    if (!parse_groups(s.substr(0, dc), false, head) || !parse_groups(s.substr(dc + 2), true, tail))
      return std::nullopt;
    if (head.size() + tail.size() > 7) return std::nullopt;
  } else {
    if (!parse_groups(s, true, head) || head.size() != 8) return std::nullopt;
  }
  std::vector<std::uint16_t> groups = head;
  groups.resize(8 - tail.size(), 0);
  groups.insert(groups.end(), tail.begin(), tail.end());
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xFF);
  }
  return out;
}

// Clears the bits after `prefix`; returns true when any was set.
bool mask_host_bits(IpAddress& a, int prefix) {
  bool had = false;
  int total = a.family == 4 ? 32 : 128;
  for (int bit = prefix; bit < total; ++bit) {
    auto& byte = a.bytes[static_cast<std::size_t>(bit / 8)];
    std::uint8_t m = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    if (byte & m) had = true;
    byte = static_cast<std::uint8_t>(byte & ~m);
  }
  return had;
}

struct Split {
  std::optional<IpAddress> address;
  std::optional<int> prefix;  // nullopt = none written
  std::string error;
};

Split split_cidr(std::string_view text) {
  Split r;
  std::size_t slash = text.find('/');
  auto addr = parse_ip(text.substr(0, slash));
  std::string quoted = "\"" + std::string(text) + "\"";
  if (!addr) {
    r.error = "expected an IPv4 or IPv6 address in CIDR notation, got " + quoted;
    return r;
  }
  if (slash != std::string_view::npos) {
    std::string_view ps = text.substr(slash + 1);
    int max = addr->family == 4 ? 32 : 128;
    int v = 0;
    bool ok = !ps.empty() && ps.size() <= 3 && !(ps.size() > 1 && ps[0] == '0');
    for (char c : ps) {
      if (c < '0' || c > '9')
        ok = false;
      else if (ok)  // at most 3 digits: a long run must not overflow int (fuzz_policy found it)
        v = v * 10 + (c - '0');
    }
    if (!ok || v > max) {
      r.error = "expected a prefix length 0-" + std::to_string(max) + " after the IPv" +
                std::to_string(addr->family) + " address, got " + quoted;
      return r;
    }
    r.prefix = v;
  }
  r.address = addr;
  return r;
}

}  // namespace

std::string IpAddress::text() const {
  char buf[64];
  if (family == 4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
    return buf;
  }
  unsigned g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<unsigned>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  IpAddress a;
  if (text.find(':') != std::string_view::npos) {
    auto v6 = parse_v6(text);
    if (!v6) return std::nullopt;
    a.family = 6;
    a.bytes = *v6;
    return a;
  }
  auto v4 = parse_v4(text);
  if (!v4) return std::nullopt;
  a.family = 4;
  std::copy(v4->begin(), v4->end(), a.bytes.begin());
  return a;
}

CidrParse parse_cidr(std::string_view text) {
  CidrParse r;
  Split s = split_cidr(text);
  if (!s.address) {
    r.error = s.error;
    return r;
  }
  int prefix = s.prefix.value_or(s.address->family == 4 ? 32 : 128);
  IpAddress net = *s.address;
  if (mask_host_bits(net, prefix)) {
    r.error = "expected a network address with no host bits set, got \"" + std::string(text) +
              "\" (did you mean " + net.text() + "/" + std::to_string(prefix) + "?)";
    return r;
  }
  r.cidr = Cidr{net.family, net.text(), prefix};
  return r;
}

CidrParse parse_interface_address(std::string_view text) {
  CidrParse r;
  Split s = split_cidr(text);
  if (!s.address) {
    r.error = "expected an interface address with its prefix such as \"10.1.2.117/24\", got \"" +
              std::string(text) + "\"";
    return r;
  }
  if (!s.prefix) {
    r.error = "expected an interface address with its prefix such as \"10.1.2.117/24\", got \"" +
              std::string(text) + "\" (no prefix length)";
    return r;
  }
  r.cidr = Cidr{s.address->family, s.address->text(), *s.prefix};
  return r;
}

}  // namespace seatlock
