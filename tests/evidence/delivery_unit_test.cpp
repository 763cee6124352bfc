// Sender building blocks: response rules, backoff bounds, gzip, the seat key.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "os/delivery/gzip.hpp"
#include "os/delivery/seat_key.hpp"
#include "os/delivery/verdict.hpp"
#include "spool_helpers.hpp"

using namespace seatlock;
using A = Verdict::Action;

TEST_CASE("collector answers map to the wire contract's actions", "[delivery]") {
  auto v = judge({200, R"({"stored":3,"duplicates":1,"last_seq":41})", {}, ""}, 42);
  CHECK(v.action == A::Delivered);
  CHECK(v.last_seq == 41);
  CHECK(judge({200, "not json", {}, ""}, 42).last_seq == 42);
  auto q =
      judge({400, R"({"error":"line 3: /severity: expected one of ...","line":3})", {}, ""}, 9);
  CHECK(q.action == A::Quarantine);
  CHECK(q.reason == "400: line 3: /severity: expected one of ...");
  CHECK(judge({422, "{}", {}, ""}, 9).action == A::Quarantine);
  CHECK(judge({401, "{}", {}, ""}, 9).action == A::AuthProblem);
  CHECK(judge({403, R"({"error":"seat.id mismatch"})", {}, ""}, 9).action == A::AuthProblem);
  CHECK(judge({413, "", {}, ""}, 9).action == A::Split);
  auto ra = judge({503, "", 7L, ""}, 9);
  CHECK(ra.action == A::RetryAfter);
  CHECK(ra.wait_s == 7);
  CHECK(judge({429, "", 2L, ""}, 9).action == A::RetryAfter);
  CHECK(judge({503, "", {}, ""}, 9).action == A::Backoff);
  CHECK(judge({500, "", {}, ""}, 9).action == A::Backoff);
  CHECK(judge({0, "", {}, "Connection refused"}, 9).reason == "network: Connection refused");
}

TEST_CASE("backoff is jittered, doubles and is capped at 5 minutes", "[delivery]") {
  Backoff b;
  std::int64_t first = b.next_ms();
  CHECK(first >= 500);
  CHECK(first <= 1000);
  std::int64_t d = 0;
  for (int i = 0; i < 20; ++i) d = b.next_ms();
  CHECK(d >= 150'000);
  CHECK(d <= 300'000);
  b.reset();
  CHECK(b.next_ms() <= 1000);
}

TEST_CASE("gzip round trip", "[delivery]") {
  std::string body;
  for (int i = 0; i < 1000; ++i)
    body += R"({"kind":"usb.blocked","seq":)" + std::to_string(i) + "}\n";
  std::string z = gzip_compress(body);
  CHECK(z.size() < body.size() / 5);
  CHECK(static_cast<unsigned char>(z[0]) == 0x1f);
  std::string back;
  REQUIRE(gzip_decompress(z, back));
  CHECK(back == body);
}

TEST_CASE("the seat key is made once (0600), reloaded unchanged and signs chain heads",
          "[delivery]") {
  seatlock::test::TempDir dir("key");
  std::string path = dir.file("seat.key");
  SeatKey k1 = SeatKey::load_or_create(path);
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  SeatKey k2 = SeatKey::load_or_create(path);
  CHECK(k1.public_raw() == k2.public_raw());
  CHECK(k1.public_raw().size() == 32);

  std::string msg = chain_head_message("cc-bj-03-117", 42, std::string(64, 'a'));
  CHECK(msg == "seatlock.chain/1 cc-bj-03-117 42 " + std::string(64, 'a'));
  std::string sig = k1.sign(msg);
  REQUIRE(sig.size() == 64);
  // Verify with the public key alone, as the collector does.
  std::string pub = k1.public_raw();
  EVP_PKEY* pk = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(pub.data()), pub.size());
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pk) == 1);
  CHECK(EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1);
  std::string tampered = msg + "0";
  EVP_MD_CTX_free(md);
  md = EVP_MD_CTX_new();
  EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pk);
  CHECK(EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(tampered.data()),
                         tampered.size()) != 1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pk);

  std::ofstream(dir.file("bad.key")) << "junk";
  CHECK_THROWS_WITH(SeatKey::load_or_create(dir.file("bad.key")),
                    Catch::Contains("not a PEM private key"));
}
