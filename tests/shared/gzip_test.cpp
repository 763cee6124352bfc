// gzip both ways (agent/core/gzip): what the agent sends, the collector decodes, and a body
// that would expand past the cap stops there.
#include "core/gzip/gzip.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

using namespace seatlock;

namespace {

std::string event_lines(int n) {
  std::string body;
  for (int i = 0; i < n; ++i) body += R"({"kind":"usb.blocked","seq":)" + std::to_string(i) + "}\n";
  return body;
}

}  // namespace

TEST_CASE("gzip round trip, with the decoded size exactly at the cap", "[gzip]") {
  const std::string body = event_lines(1000);
  const std::string z = gzip_compress(body);
  CHECK(z.size() < body.size() / 5);
  REQUIRE(z.size() > 2);
  CHECK(static_cast<unsigned char>(z[0]) == 0x1f);  // the gzip magic, not a zlib header
  CHECK(static_cast<unsigned char>(z[1]) == 0x8b);
  std::string out = "left over from before";
  REQUIRE(gunzip(z, out, body.size()) == GunzipResult::ok);
  CHECK(out == body);
  CHECK(gunzip(z, out, body.size() - 1) == GunzipResult::too_large);
}

TEST_CASE("an empty body round-trips", "[gzip]") {
  std::string out = "x";
  REQUIRE(gunzip(gzip_compress(""), out, 0) == GunzipResult::ok);
  CHECK(out.empty());
}

TEST_CASE("a gzip bomb stops at the cap instead of expanding", "[gzip]") {
  const std::string zeros(64u << 20, '\0');  // 64 MiB of zeros: about 64 KiB gzipped
  const std::string bomb = gzip_compress(zeros);
  CHECK(bomb.size() < 100'000);
  std::string out;
  CHECK(gunzip(bomb, out, 1u << 20) == GunzipResult::too_large);
  CHECK(out.size() <= (1u << 20) + 1);  // never more than one byte past the cap
}

TEST_CASE("no cap (SIZE_MAX) decodes the whole stream", "[gzip]") {
  const std::string body = event_lines(10);
  std::string out;
  CHECK(gunzip(gzip_compress(body), out, SIZE_MAX) == GunzipResult::ok);
  CHECK(out == body);
}

TEST_CASE("what is not one whole gzip stream is corrupt", "[gzip]") {
  const std::string z = gzip_compress(event_lines(200));
  std::string out;
  SECTION("truncated") {
    CHECK(gunzip(z.substr(0, z.size() / 2), out, 1u << 20) == GunzipResult::corrupt);
  }
  SECTION("missing its trailer") {
    CHECK(gunzip(z.substr(0, z.size() - 4), out, 1u << 20) == GunzipResult::corrupt);
  }
  SECTION("a flipped byte in the checksum") {
    std::string bad = z;
    bad[bad.size() - 6] ^= 0x01;
    CHECK(gunzip(bad, out, 1u << 20) == GunzipResult::corrupt);
  }
  SECTION("a zlib stream (not gzip)") {
    // 78 9c: zlib header; 03 00: empty final block; 00 00 00 01: Adler-32 of nothing.
    const std::string zlib("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
    CHECK(gunzip(zlib, out, 1u << 20) == GunzipResult::corrupt);
  }
  SECTION("plain text") {
    CHECK(gunzip("not gzip at all", out, 1u << 20) == GunzipResult::corrupt);
  }
  SECTION("nothing") {
    CHECK(gunzip("", out, 1u << 20) == GunzipResult::corrupt);
  }
}
