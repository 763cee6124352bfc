// Sender building blocks: response rules, backoff bounds, gzip, the seat key.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "core/gzip/gzip.hpp"
#include "os/delivery/seat_key.hpp"
#include "os/delivery/sender.hpp"
#include "os/delivery/verdict.hpp"
#include "spool_helpers.hpp"

using namespace seatlock;
using A = Verdict::Action;

TEST_CASE("collector answers map to the wire contract's actions", "[delivery]") {
  auto v = judge({200, R"({"stored":3,"duplicates":1,"last_seq":41})", {}, ""}, 42);
  CHECK(v.action == A::Delivered);
  CHECK(v.last_seq == 41);
  CHECK(judge({200, "not json", {}, ""}, 42).last_seq == 42);
  CHECK(judge({401, "{}", {}, ""}, 9).action == A::AuthProblem);
  CHECK(judge({403, R"({"error":"seat.id mismatch"})", {}, ""}, 9).action == A::AuthProblem);
  CHECK(judge({413, "", {}, ""}, 9).action == A::Split);
  auto ra = judge({503, "", 7L, ""}, 9);
  CHECK(ra.action == A::RetryAfter);
  CHECK(ra.wait_s == 7);
  CHECK(judge({429, "", 2L, ""}, 9).action == A::RetryAfter);
  CHECK(judge({503, "", {}, ""}, 9).action == A::Backoff);
  CHECK(judge({503, "", 0L, ""}, 9).action == A::Backoff);  // "Retry-After: 0" is no wait
  CHECK(judge({0, "", {}, "Connection refused"}, 9).reason == "network: Connection refused");
}

TEST_CASE("a 400 naming a line quarantines that line only, without a line the batch is bisected",
          "[delivery]") {
  auto q =
      judge({400, R"({"error":"line 3: /severity: expected one of ...","line":3})", {}, ""}, 9);
  CHECK(q.action == A::QuarantineLine);
  CHECK(q.line == 3);
  CHECK(q.reason == "400: line 3: /severity: expected one of ...");
  CHECK(judge({400, R"({"error":"X-Seatlock-Chain-Head: ..."})", {}, ""}, 9).action == A::Bisect);
  CHECK(judge({400, "<html>Bad Request</html>", {}, ""}, 9).action == A::Bisect);
  CHECK(judge({400, R"({"error":"x","line":0})", {}, ""}, 9).action == A::Bisect);
  CHECK(judge({400, R"({"error":"x","line":-2})", {}, ""}, 9).action == A::Bisect);
  CHECK(judge({400, R"({"error":"x","line":"3"})", {}, ""}, 9).action == A::Bisect);
}

TEST_CASE("404, 405, 408, other 4xx and 5xx keep the rows queued (backoff, never quarantine)",
          "[delivery]") {
  for (long status :
       {404L, 405L, 408L, 409L, 410L, 415L, 422L, 451L, 500L, 502L, 504L, 599L, 302L, 100L}) {
    INFO("status " << status);
    auto v = judge({status, R"({"error":"nope"})", {}, ""}, 9);
    CHECK(v.action == A::Backoff);
    CHECK(v.reason == std::to_string(status) + ": nope");
  }
}

TEST_CASE("Retry-After is capped at an hour and parsed without overflow", "[delivery]") {
  CHECK(kMaxRetryAfterS == 3600);
  auto huge = judge({503, "", 99999999L, ""}, 9);
  CHECK(huge.action == A::RetryAfter);
  CHECK(huge.wait_s == 3600);
  CHECK(judge({429, "", 3601L, ""}, 9).wait_s == 3600);

  const std::time_t now = 1'764'590'400;  // 2025-12-01T12:00:00Z
  CHECK(parse_retry_after("120", now) == 120L);
  CHECK(parse_retry_after("  7 \r\n", now) == 7L);
  CHECK(parse_retry_after("0", now) == 0L);
  CHECK(parse_retry_after("99999999", now) == 3600L);
  CHECK(parse_retry_after(std::string(400, '9'), now) == 3600L);
  CHECK(parse_retry_after("18446744073709551617", now) == 3600L);
  CHECK(parse_retry_after("Mon, 01 Dec 2025 12:00:30 GMT", now) == 30L);
  CHECK(parse_retry_after("Mon, 01 Dec 2025 11:00:00 GMT", now) == 0L);  // in the past
  CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == 3600L);
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("12abc", now));
  CHECK_FALSE(parse_retry_after(std::string(10'000, 'x'), now));
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
  for (int i = 0; i < 100'000; ++i) d = b.next_ms();  // no overflow however long it fails
  CHECK(d >= 150'000);
  CHECK(d <= kMaxBackoffMs);
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
  REQUIRE(gunzip(z, back, body.size()) == GunzipResult::ok);
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

TEST_CASE("rows of a foreign seat id are set aside, counted, and requeued with their notes cleared",
          "[delivery][spool]") {
  seatlock::test::TempDir dir("setaside");
  Spool spool(dir.file("spool.db"));
  for (int i = 0; i < 3; ++i) {
    Event e = seatlock::test::draft(i == 2 ? "delivery.auth_failed" : "usb.blocked", "high", i);
    e.seat_id = "old-hostname";
    spool.append(std::move(e));
  }
  spool.append(seatlock::test::draft("agent.started"));  // seq 4, seat-test
  spool.quarantine(4, 4, "400: line 1: bad");

  SetAsideResult r = spool.set_aside_seat("old-hostname", "set aside: refused");
  CHECK(r.rows == 3);
  CHECK(r.first_seq == 1);
  CHECK(r.last_seq == 3);
  CHECK(r.notices == 1);
  CHECK(spool.next_batch(10, kMaxBatchBytes).empty());
  SpoolStats st = spool.stats();
  CHECK(st.set_aside == 3);
  CHECK(st.quarantined == 1);
  CHECK(st.queued == 0);
  auto rows = spool.query({});
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].state == SpoolState::SetAside);
  CHECK(std::string(to_string(rows[0].state)) == "set-aside");
  CHECK(rows[0].note == "set aside: refused");
  CHECK(spool.set_aside_seat("old-hostname", "again").rows == 0);  // nothing queued is left

  CHECK(spool.requeue(2, 4) == 3);  // set-aside 2..3 and the quarantined 4
  auto batch = spool.next_batch(10, kMaxBatchBytes);
  REQUIRE(batch.size() == 2);  // one seat per batch: 2 and 3 of old-hostname
  CHECK(batch.front().seq == 2);
  CHECK(batch.front().note.empty());
  CHECK(spool.stats().set_aside == 1);
  CHECK(spool.requeue(1, 1) == 1);
  CHECK(spool.requeue(1, 4) == 0);  // queued rows are left alone
  CHECK(spool.stats().queued == 4);
}
