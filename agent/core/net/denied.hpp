#pragma once
// Denied-packet evidence: parsing the IP header NFLOG hands over, and aggregating packets per
// (uid, source for inbound/forwarded packets, destination, port, protocol, reason) per window so
// a flood yields a bounded number of `net.egress_denied` / `net.inbound_denied` /
// `net.forward_denied` events (one aggregator each).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/util/time.hpp"

namespace seatlock::net {

struct PacketInfo {
  int family = 4;
  std::string saddr;
  std::string daddr;
  std::string proto;        // "tcp", "udp", "icmp", "ipv6-icmp" or the protocol number
  std::uint16_t dport = 0;  // 0 when the protocol has no ports
};

// Parses an IPv4/IPv6 packet starting at its network header; nullopt when truncated/not IP.
std::optional<PacketInfo> parse_ip_packet(const std::uint8_t* data, std::size_t len);

struct DeniedKey {
  std::int64_t uid = -1;  // -1: no local socket (or the kernel did not say)
  std::string daddr;
  std::uint16_t dport = 0;
  std::string proto;
  std::string reason;  // "not-allowed", "audit", "source-address"
  std::string saddr;   // inbound and forwarded packets: who sent it; egress: "" (see the group)
  bool operator<(const DeniedKey& o) const {
    return std::tie(uid, saddr, daddr, dport, proto, reason) <
           std::tie(o.uid, o.saddr, o.daddr, o.dport, o.proto, o.reason);
  }
};

struct DeniedGroup {
  DeniedKey key;
  std::string saddr;  // source of the first packet
  std::uint64_t count = 0;
  UnixMillis first = 0;
  UnixMillis last = 0;
};

struct DeniedWindow {
  UnixMillis start = 0;
  UnixMillis end = 0;
  std::vector<DeniedGroup> groups;
  // Packets whose key arrived after max_keys distinct keys were already open this window.
  std::uint64_t overflow_packets = 0;
  std::size_t overflow_keys = 0;
};

class DeniedAggregator {
 public:
  explicit DeniedAggregator(std::size_t max_keys = 200) : max_keys_(max_keys) {}
  // Returns true when this packet opened a new window (the caller arms the window timer).
  bool add(const DeniedKey& key, const std::string& saddr, UnixMillis now);
  bool empty() const { return groups_.empty() && overflow_packets_ == 0; }
  // Closes the current window and returns it.
  DeniedWindow take(UnixMillis now);

 private:
  std::size_t max_keys_;
  UnixMillis start_ = 0;
  std::map<DeniedKey, DeniedGroup> groups_;
  std::map<DeniedKey, bool> overflow_seen_;
  std::uint64_t overflow_packets_ = 0;
};

}  // namespace seatlock::net
