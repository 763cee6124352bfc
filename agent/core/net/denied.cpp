#include "core/net/denied.hpp"

#include <arpa/inet.h>

namespace seatlock::net {

namespace {

std::string proto_name(std::uint8_t p) {
  switch (p) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
      return "icmp";
    case 58:
      return "ipv6-icmp";
    case 132:
      return "sctp";
    default:
      return std::to_string(p);
  }
}

bool has_ports(std::uint8_t p) {
  return p == 6 || p == 17 || p == 132 || p == 136;
}

}  // namespace

std::optional<PacketInfo> parse_ip_packet(const std::uint8_t* d, std::size_t len) {
  if (len < 1) return std::nullopt;
  PacketInfo info;
  char buf[INET6_ADDRSTRLEN];
  std::uint8_t proto = 0;
  std::size_t l4 = 0;
  int version = d[0] >> 4;
  if (version == 4) {
    if (len < 20) return std::nullopt;
    std::size_t ihl = std::size_t(d[0] & 0x0f) * 4;
    if (ihl < 20 || len < ihl) return std::nullopt;
    info.family = 4;
    inet_ntop(AF_INET, d + 12, buf, sizeof buf);
    info.saddr = buf;
    inet_ntop(AF_INET, d + 16, buf, sizeof buf);
    info.daddr = buf;
    proto = d[9];
    bool later_fragment = ((d[6] & 0x1f) | d[7]) != 0;
    l4 = later_fragment ? len : ihl;  // later fragments carry no transport header
  } else if (version == 6) {
    if (len < 40) return std::nullopt;
    info.family = 6;
    inet_ntop(AF_INET6, d + 8, buf, sizeof buf);
    info.saddr = buf;
    inet_ntop(AF_INET6, d + 24, buf, sizeof buf);
    info.daddr = buf;
    proto = d[6];
    l4 = 40;
    // Skip the common extension headers (hop-by-hop, routing, destination options).
    while ((proto == 0 || proto == 43 || proto == 60) && l4 + 8 <= len) {
      proto = d[l4];
      l4 += (std::size_t(d[l4 + 1]) + 1) * 8;
    }
  } else {
    return std::nullopt;
  }
  info.proto = proto_name(proto);
  if (has_ports(proto) && l4 + 4 <= len) info.dport = std::uint16_t((d[l4 + 2] << 8) | d[l4 + 3]);
  return info;
}

bool DeniedAggregator::add(const DeniedKey& key, const std::string& saddr, UnixMillis now) {
  bool opened = empty();
  if (opened) start_ = now;
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    if (groups_.size() >= max_keys_) {
      overflow_seen_[key] = true;
      ++overflow_packets_;
      return opened;
    }
    it = groups_.emplace(key, DeniedGroup{key, saddr, 0, now, now}).first;
  }
  ++it->second.count;
  it->second.last = now;
  return opened;
}

DeniedWindow DeniedAggregator::take(UnixMillis now) {
  DeniedWindow w;
  w.start = start_;
  w.end = now;
  for (auto& [k, g] : groups_) w.groups.push_back(std::move(g));
  w.overflow_packets = overflow_packets_;
  w.overflow_keys = overflow_seen_.size();
  groups_.clear();
  overflow_seen_.clear();
  overflow_packets_ = 0;
  return w;
}

}  // namespace seatlock::net
