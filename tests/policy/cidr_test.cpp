// The pure CIDR / IP parser used by the network policy.
#include "core/policy/cidr.hpp"

#include <catch2/catch.hpp>

using namespace seatlock;

TEST_CASE("IPv4 networks parse to canonical form", "[policy][cidr]") {
  auto r = parse_cidr("10.0.0.0/8");
  REQUIRE(r.cidr);
  CHECK(r.cidr->family == 4);
  CHECK(r.cidr->text() == "10.0.0.0/8");
  CHECK(parse_cidr("192.0.2.7").cidr->text() == "192.0.2.7/32");
  CHECK(parse_cidr("0.0.0.0/0").cidr->text() == "0.0.0.0/0");
}

TEST_CASE("host bits set name the network that was probably meant", "[policy][cidr]") {
  auto r = parse_cidr("10.1.2.3/8");
  CHECK_FALSE(r.cidr);
  CHECK(r.error ==
        "expected a network address with no host bits set, got \"10.1.2.3/8\" (did you mean "
        "10.0.0.0/8?)");
  CHECK(parse_cidr("172.16.5.0/12").error ==
        "expected a network address with no host bits set, got \"172.16.5.0/12\" (did you mean "
        "172.16.0.0/12?)");
  CHECK(parse_cidr("fd00::1/8").error ==
        "expected a network address with no host bits set, got \"fd00::1/8\" (did you mean "
        "fd00::/8?)");
}

TEST_CASE("malformed addresses and prefixes are refused", "[policy][cidr]") {
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "10.0.0.256/32", "10.0.0.01", "10.0.0.0/",
                          "10.0.0.0/08", "fd00::/129", "2001:db8:::1", "fd00::gg/64",
                          "1:2:3:4:5:6:7:8:9", "1::2::3", "", "/8", " 10.0.0.0/8", "10.0.0.0/8 "}) {
    INFO(bad);
    CHECK_FALSE(parse_cidr(bad).cidr);
  }
  CHECK(parse_cidr("10.0.0.0/33").error ==
        "expected a prefix length 0-32 after the IPv4 address, got \"10.0.0.0/33\"");
  CHECK(parse_cidr("fd00::gg/64").error ==
        "expected an IPv4 or IPv6 address in CIDR notation, got \"fd00::gg/64\"");
}

TEST_CASE("IPv6 canonical text follows RFC 5952", "[policy][cidr]") {
  CHECK(parse_ip("2001:0DB8:0000:0000:0000:0000:0000:0001")->text() == "2001:db8::1");
  CHECK(parse_ip("2001:db8:0:1:0:0:0:1")->text() == "2001:db8:0:1::1");
  CHECK(parse_ip("2001:0:0:1:0:0:0:1")->text() == "2001:0:0:1::1");        // longest run wins
  CHECK(parse_ip("2001:db8:0:0:1:0:0:1")->text() == "2001:db8::1:0:0:1");  // first of equal runs
  CHECK(parse_ip("2001:db8:1:1:1:1:0:1")->text() ==
        "2001:db8:1:1:1:1:0:1");  // one zero group stays
  CHECK(parse_ip("::")->text() == "::");
  CHECK(parse_ip("::1")->text() == "::1");
  CHECK(parse_ip("fe80::")->text() == "fe80::");
  CHECK(parse_ip("::ffff:10.1.2.3")->text() == "::ffff:a01:203");
  CHECK(parse_cidr("FC00::/7").cidr->text() == "fc00::/7");
  CHECK(parse_cidr("::/0").cidr->text() == "::/0");
}

TEST_CASE("interface addresses keep their host part and need a prefix", "[policy][cidr]") {
  auto r = parse_interface_address("10.1.2.117/24");
  REQUIRE(r.cidr);
  CHECK(r.cidr->address == "10.1.2.117");
  CHECK(r.cidr->prefix == 24);
  CHECK_FALSE(parse_interface_address("10.1.2.117").cidr);
  CHECK(parse_interface_address("fd00:0::5/64").cidr->text() == "fd00::5/64");
}
