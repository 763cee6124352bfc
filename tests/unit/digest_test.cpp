// The built-in SHA-256 and base64 (core/util/digest.hpp) give the same bytes as OpenSSL, which
// they replaced so that seatlock-usbd does not map libcrypto: policy hashes and the event chain
// must not change.
#include "core/util/digest.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <catch2/catch.hpp>
#include <string>

using namespace seatlock;

namespace {

std::string openssl_sha256_hex(const std::string& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return hex_encode(std::string(reinterpret_cast<const char*>(md), sizeof md));
}

std::string openssl_base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Bytes 0..255 repeated: every byte value, at every length up to `n`.
std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + 3) & 0xff);
  return s;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 examples", "[unit][digest]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 gives OpenSSL's digest for every length across the block boundaries",
          "[unit][digest]") {
  for (std::size_t n = 0; n <= 300; ++n) {
    const std::string s = pattern(n);
    INFO("length " << n);
    REQUIRE(sha256_hex(s) == openssl_sha256_hex(s));
  }
  CHECK(sha256_bytes("abc").size() == 32);
}

TEST_CASE("base64 encodes like OpenSSL and decodes back", "[unit][digest]") {
  for (std::size_t n = 0; n <= 100; ++n) {
    const std::string s = pattern(n);
    INFO("length " << n);
    const std::string text = base64_encode(s);
    REQUIRE(text == openssl_base64(s));
    std::string back;
    REQUIRE(base64_decode(text, back));
    REQUIRE(back == s);
  }
}

TEST_CASE("base64 decoding refuses malformed text", "[unit][digest]") {
  std::string out;
  CHECK_FALSE(base64_decode("abc", out));       // not a whole group
  CHECK_FALSE(base64_decode("ab$d", out));      // not in the alphabet
  CHECK_FALSE(base64_decode("a=bc", out));      // padding in the middle
  CHECK_FALSE(base64_decode("ab==abcd", out));  // padding before the last group
  CHECK_FALSE(base64_decode("abc=d===", out));
  CHECK_FALSE(base64_decode("a===", out));  // at most two '='
  CHECK(base64_decode("", out));
  CHECK(out.empty());
  CHECK(base64_decode("YQ==", out));
  CHECK(out == "a");
  CHECK(base64_decode("YWI=", out));
  CHECK(out == "ab");
}
