#include "core/net/address_space.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace seatlock::net {

std::optional<AddrRange> parse_address(const std::string& text) {
  AddrRange r;
  if (text.find(':') == std::string::npos) {
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
    r.family = 4;
    r.first = r.last = ntohl(a.s_addr);
    return r;
  }
  in6_addr a{};
  if (inet_pton(AF_INET6, text.c_str(), &a) != 1) return std::nullopt;
  r.family = 6;
  U128 v = 0;
  for (unsigned char b : a.s6_addr) v = (v << 8) | b;
  r.first = r.last = v;
  return r;
}

std::optional<AddrRange> parse_cidr_range(const std::string& text) {
  auto slash = text.find('/');
  auto base = parse_address(text.substr(0, slash));
  if (!base) return std::nullopt;
  int bits = base->family == 4 ? 32 : 128;
  int prefix = bits;
  if (slash != std::string::npos) {
    std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    prefix = std::stoi(p);
    if (prefix > bits) return std::nullopt;
  }
  int host_bits = bits - prefix;
  U128 host_mask = host_bits == 128 ? ~U128(0) : ((U128(1) << host_bits) - 1);
  base->first &= ~host_mask;
  base->last = base->first | host_mask;
  return base;
}

AddrRange cidr_range(const Cidr& cidr) {
  // The address and prefix as they are (no "a/p" text to build and split again: this runs
  // for every allow entry of every compile).
  auto r = parse_address(cidr.address);
  const int bits = r && r->family == 4 ? 32 : 128;
  if (!r || cidr.prefix < 0 || cidr.prefix > bits)
    throw std::invalid_argument("not a CIDR: " + cidr.text());
  const int host_bits = bits - cidr.prefix;
  const U128 host_mask = host_bits == 128 ? ~U128(0) : ((U128(1) << host_bits) - 1);
  r->first &= ~host_mask;
  r->last = r->first | host_mask;
  return *r;
}

std::string format_address(int family, U128 value) {
  char buf[INET6_ADDRSTRLEN];
  if (family == 4) {
    in_addr a{};
    a.s_addr = htonl(static_cast<std::uint32_t>(value));
    inet_ntop(AF_INET, &a, buf, sizeof buf);
  } else {
    in6_addr a{};
    for (int i = 15; i >= 0; --i, value >>= 8)
      a.s6_addr[i] = static_cast<unsigned char>(value & 0xff);
    inet_ntop(AF_INET6, &a, buf, sizeof buf);
  }
  return buf;
}

std::string format_range(const AddrRange& r) {
  if (r.first == r.last) return format_address(r.family, r.first);
  return format_address(r.family, r.first) + "-" + format_address(r.family, r.last);
}

namespace {

struct Segment {
  U128 first, last;
  std::int64_t value;
  bool operator==(const Segment&) const = default;
};

// Sweep over addresses: the pieces of the union of `items`, each with the max value covering it.
std::vector<Segment> sweep(std::vector<Segment> items) {
  std::sort(items.begin(), items.end(),
            [](const Segment& a, const Segment& b) { return a.first < b.first; });
  std::vector<Segment> out;
  // One value throughout (the seat-wide and inbound sets): the union is a linear merge.
  if (std::all_of(items.begin(), items.end(),
                  [&](const Segment& s) { return s.value == items.front().value; })) {
    for (const Segment& s : items) {
      if (!out.empty() && (out.back().last == ~U128(0) || s.first <= out.back().last + 1))
        out.back().last = std::max(out.back().last, s.last);
      else
        out.push_back(s);
    }
    return out;
  }
  std::multimap<U128, std::int64_t> active;  // last -> value of the items covering `pos`
  std::multiset<std::int64_t> values;
  std::size_t next = 0;
  auto emit = [&](U128 first, U128 last, std::int64_t value) {
    if (!out.empty() && out.back().value == value && out.back().last + 1 == first) {
      out.back().last = last;
    } else {
      out.push_back({first, last, value});
    }
  };
  U128 pos = 0;
  bool have_pos = false;
  while (next < items.size() || !active.empty()) {
    if (active.empty()) {  // jump to the next item's start
      pos = items[next].first;
      have_pos = true;
    }
    while (next < items.size() && items[next].first == pos) {
      active.emplace(items[next].last, items[next].value);
      values.insert(items[next].value);
      ++next;
    }
    // The current piece ends where the first active item ends or the next item starts.
    U128 end = active.begin()->first;
    if (next < items.size() && items[next].first - 1 < end) end = items[next].first - 1;
    emit(pos, end, *values.rbegin());
    while (!active.empty() && active.begin()->first == end) {
      values.erase(values.find(active.begin()->second));
      active.erase(active.begin());
    }
    if (end == ~U128(0)) break;  // reached the top of the address space
    pos = end + 1;
  }
  (void)have_pos;
  return out;
}

}  // namespace

std::vector<Box> disjoint_boxes(const std::vector<Box>& in) {
  // Elementary port intervals: every start and every end+1 of the inputs is a cut.
  std::set<std::uint32_t> cuts;
  for (const auto& b : in) {
    cuts.insert(b.port_first);
    cuts.insert(std::uint32_t(b.port_last) + 1);
  }
  std::vector<std::uint32_t> cut(cuts.begin(), cuts.end());
  // Per elementary interval, the address segments; adjacent intervals with equal segment
  // lists merge into one port range.
  std::vector<Box> out;
  std::vector<Segment> prev_segments;
  std::uint32_t prev_first = 0, prev_last = 0;
  bool have_prev = false;
  auto flush = [&]() {
    if (!have_prev) return;
    for (const auto& s : prev_segments)
      out.push_back(
          {s.first, s.last, std::uint16_t(prev_first), std::uint16_t(prev_last), s.value});
  };
  for (std::size_t i = 0; i + 1 < cut.size(); ++i) {
    std::uint32_t first = cut[i], last = cut[i + 1] - 1;
    std::vector<Segment> items;
    for (const auto& b : in)
      if (b.port_first <= first && b.port_last >= last)
        items.push_back({b.addr_first, b.addr_last, b.value});
    auto segs = sweep(std::move(items));
    if (have_prev && prev_last + 1 == first && segs == prev_segments) {
      prev_last = last;
      continue;
    }
    flush();
    have_prev = !segs.empty();
    prev_segments = std::move(segs);
    prev_first = first;
    prev_last = last;
  }
  flush();
  return out;
}

bool box_less(const Box& x, const Box& y) {
  return std::tie(x.port_first, x.port_last, x.addr_first, x.addr_last, x.value) <
         std::tie(y.port_first, y.port_last, y.addr_first, y.addr_last, y.value);
}

std::vector<std::size_t> box_order(const std::vector<Box>& v) {
  std::vector<std::size_t> idx(v.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  // disjoint_boxes() writes them in this order already; sorted only if that ever changes.
  if (!std::is_sorted(v.begin(), v.end(), box_less))
    std::sort(idx.begin(), idx.end(),
              [&](std::size_t x, std::size_t y) { return box_less(v[x], v[y]); });
  return idx;
}

}  // namespace seatlock::net
