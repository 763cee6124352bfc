// Unit tests of denied-packet parsing and aggregation (no root).
#include "core/net/denied.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace seatlock::net;

namespace {

std::vector<std::uint8_t> ipv4_udp(std::uint8_t last_octet, std::uint16_t dport) {
  std::vector<std::uint8_t> p(28, 0);
  p[0] = 0x45;
  p[9] = 17;
  std::uint8_t src[4] = {10, 99, 0, 1}, dst[4] = {203, 0, 113, last_octet};
  std::copy(src, src + 4, p.begin() + 12);
  std::copy(dst, dst + 4, p.begin() + 16);
  p[22] = std::uint8_t(dport >> 8);
  p[23] = std::uint8_t(dport & 0xff);
  return p;
}

}  // namespace

TEST_CASE("IPv4 and IPv6 headers yield destination, protocol and port", "[net][unit]") {
  auto v4 = ipv4_udp(9, 853);
  auto info = parse_ip_packet(v4.data(), v4.size());
  REQUIRE(info);
  CHECK(info->family == 4);
  CHECK(info->saddr == "10.99.0.1");
  CHECK(info->daddr == "203.0.113.9");
  CHECK(info->proto == "udp");
  CHECK(info->dport == 853);

  std::vector<std::uint8_t> v6(60, 0);
  v6[0] = 0x60;
  v6[6] = 6;  // tcp
  v6[24] = 0x20;
  v6[25] = 0x01;
  v6[26] = 0x0d;
  v6[27] = 0xb8;
  v6[39] = 1;
  v6[42] = 0x01;
  v6[43] = 0xbb;
  auto i6 = parse_ip_packet(v6.data(), v6.size());
  REQUIRE(i6);
  CHECK(i6->daddr == "2001:db8::1");
  CHECK(i6->proto == "tcp");
  CHECK(i6->dport == 443);

  CHECK_FALSE(parse_ip_packet(v4.data(), 12));  // truncated
  std::uint8_t junk[40] = {0x10};
  CHECK_FALSE(parse_ip_packet(junk, sizeof junk));
}

TEST_CASE("a flood aggregates into a bounded number of groups per window", "[net][unit]") {
  DeniedAggregator agg(50);
  bool opened = false;
  for (int i = 0; i < 100'000; ++i) {
    DeniedKey k{1001, "203.0.113." + std::to_string(i % 400), 53, "udp", "not-allowed", ""};
    opened = agg.add(k, "10.99.0.1", 1000 + i / 100) || opened;
  }
  CHECK(opened);
  auto w = agg.take(3000);
  CHECK(w.groups.size() == 50);
  std::uint64_t total = w.overflow_packets;
  for (const auto& g : w.groups) total += g.count;
  CHECK(total == 100'000);
  CHECK(w.overflow_keys == 350);
  CHECK(w.groups[0].count == 250);
  CHECK(agg.empty());
  CHECK(agg.add({-1, "198.51.100.1", 0, "icmp", "not-allowed", ""}, "10.99.0.1",
                4000));  // new window
}

TEST_CASE("groups are keyed by uid, destination, port, protocol and reason", "[net][unit]") {
  DeniedAggregator agg;
  agg.add({1001, "203.0.113.1", 443, "tcp", "not-allowed", ""}, "s", 1);
  agg.add({1001, "203.0.113.1", 443, "tcp", "not-allowed", ""}, "s", 2);
  agg.add({1002, "203.0.113.1", 443, "tcp", "not-allowed", ""}, "s", 3);
  agg.add({1001, "203.0.113.1", 443, "udp", "not-allowed", ""}, "s", 4);
  agg.add({1001, "203.0.113.1", 443, "tcp", "audit", ""}, "s", 5);
  auto w = agg.take(10);
  REQUIRE(w.groups.size() == 4);
  CHECK(w.start == 1);
  std::uint64_t max_count = 0;
  for (const auto& g : w.groups) max_count = std::max(max_count, g.count);
  CHECK(max_count == 2);
}
