// seatlock-collector serve, over real TLS on loopback: auth, validation, dedup, atomicity.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;

namespace {

std::size_t stored_count(const std::string& db, const std::string& seat = "") {
  std::vector<std::string> args = {"query", "--db", db, "--json"};
  if (!seat.empty()) args.insert(args.end(), {"--seat", seat});
  CliResult r = run_cli(args);
  REQUIRE(r.exit_code == 0);
  std::size_t n = 0;
  for (char c : r.out) n += c == '\n';
  return n;
}

json body_of(const HttpResult& r) {
  return json::parse(r.body, nullptr, false);
}

struct Fixture {
  TempDir dir;
  Pki pki{dir};
  std::string db = dir / "collector.db";
};

}  // namespace

TEST_CASE("the same batch posted twice is stored once", "[collector][ingest]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  auto cert = fx.pki.seat("cc-01");
  SeatSim seat("cc-01");
  Post p = seat.post(seat.make(50));

  HttpResult first = post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, p);
  REQUIRE(first.status == 200);
  CHECK(body_of(first) == json({{"stored", 50}, {"duplicates", 0}, {"last_seq", 50}}));
  HttpResult again = post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, p, /*gzip=*/false);
  REQUIRE(again.status == 200);
  CHECK(body_of(again) == json({{"stored", 0}, {"duplicates", 50}, {"last_seq", 50}}));
  CHECK(stored_count(fx.db) == 50);
  CHECK(run_cli({"verify", "--db", fx.db}).exit_code == 0);
}

TEST_CASE("one malformed line rejects the whole batch with its line number",
          "[collector][ingest]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  auto cert = fx.pki.seat("cc-01");
  SeatSim seat("cc-01");
  auto events = seat.make(5);
  std::string body;
  for (std::size_t i = 0; i < events.size(); ++i) {
    json j = to_json(events[i]);
    if (i == 2) j["severity"] = "catastrophic";
    body += canonical_bytes(j) + "\n";
  }
  HttpResult r = post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""},
                             seat.post_raw(body, events.back()));
  REQUIRE(r.status == 400);
  json j = body_of(r);
  CHECK(j["line"] == 3);
  CHECK(j["error"].get<std::string>().find("line 3: /severity") == 0);
  CHECK(stored_count(fx.db) == 0);

  // Not JSON at all on line 2.
  body = canonical_bytes(events[0]) + "\n{not json\n" + canonical_bytes(events[1]) + "\n";
  r = post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, seat.post_raw(body, events[1]));
  REQUIRE(r.status == 400);
  CHECK(body_of(r)["line"] == 2);
  CHECK(stored_count(fx.db) == 0);
}

TEST_CASE("a seat cannot submit another seat's events", "[collector][ingest][auth]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  auto cert_a = fx.pki.seat("cc-a");
  SeatSim seat_b("cc-b");
  HttpResult r =
      post_events(c.url(), fx.pki.ca, {cert_a.cert, cert_a.key, ""}, seat_b.post(seat_b.make(3)));
  REQUIRE(r.status == 403);
  CHECK(body_of(r)["error"].get<std::string>().find("authenticated as seat \"cc-a\"") !=
        std::string::npos);
  CHECK(stored_count(fx.db) == 0);
}

TEST_CASE("missing or untrusted client certificates are rejected", "[collector][ingest][auth]") {
  Fixture fx;
  SeatSim seat("cc-01");
  Post p = seat.post(seat.make(2));
  {
    CollectorProcess c(fx.db, fx.pki);
    HttpResult none = post_events(c.url(), fx.pki.ca, {}, p);
    CHECK(none.status == 401);
    auto rogue = fx.pki.rogue_seat("cc-01");
    HttpResult bad = post_events(c.url(), fx.pki.ca, {rogue.cert, rogue.key, ""}, p);
    CHECK(bad.status == 0);  // TLS handshake refused
    CHECK_FALSE(bad.error.empty());
    CHECK(http_get(c.url("/healthz"), fx.pki.ca).status == 200);
  }
  {
    CollectorProcess strict(fx.db, fx.pki, {"--require-client-cert"});
    HttpResult none = post_events(strict.url(), fx.pki.ca, {}, p);
    CHECK(none.status == 0);
  }
  CHECK(stored_count(fx.db) == 0);
}

TEST_CASE("enrollment tokens authenticate a seat and are stored only hashed",
          "[collector][ingest][auth]") {
  Fixture fx;
  CliResult enrolled = run_cli({"enroll", "--db", fx.db, "--seat", "cc-tok"});
  REQUIRE(enrolled.exit_code == 0);
  std::string token = enrolled.out.substr(0, enrolled.out.find('\n'));
  REQUIRE(token.rfind("slt_", 0) == 0);
  CollectorProcess c(fx.db, fx.pki, {"--tokens-only"});

  SeatSim seat("cc-tok");
  HttpResult ok = post_events(c.url(), fx.pki.ca, {"", "", token}, seat.post(seat.make(4)));
  REQUIRE(ok.status == 200);
  CHECK(body_of(ok)["stored"] == 4);

  SeatSim other("cc-other");
  CHECK(post_events(c.url(), fx.pki.ca, {"", "", token}, other.post(other.make(1))).status == 403);
  CHECK(post_events(c.url(), fx.pki.ca, {"", "", "slt_" + std::string(64, '0')},
                    seat.post(seat.make(1)))
            .status == 401);
  CHECK(post_events(c.url(), fx.pki.ca, {}, seat.post(seat.make(1))).status == 401);
  c.stop();

  std::ifstream in(fx.db, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str().find(token) == std::string::npos);
  CHECK(stored_count(fx.db) == 4);
}

TEST_CASE("the first key is pinned and signatures must verify", "[collector][ingest][auth]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  auto cert = fx.pki.seat("cc-01");
  SeatSim seat("cc-01");
  REQUIRE(
      post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, seat.post(seat.make(3))).status ==
      200);

  // Same seat, continuing its chain, but signing with a new key: refused.
  auto events = seat.make(3);
  SeatSim impostor = seat;
  impostor.use_key(collector::ed25519_generate());
  HttpResult r = post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, impostor.post(events));
  CHECK(r.status == 403);
  CHECK(body_of(r)["error"].get<std::string>().find("pinned") != std::string::npos);

  // Right key, but the chain-head header names an event the body does not end with.
  Post wrong = seat.post(events);
  wrong.headers[2] = "X-Seatlock-Chain-Head: 4 " + chain_hash(events[0]);
  CHECK(post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, wrong).status == 400);

  // Right key, signature over something else.
  Post forged = seat.post(events);
  forged.headers[3] = seat.post({events[0]}).headers[3];
  CHECK(post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, forged).status == 403);
  CHECK(stored_count(fx.db) == 3);

  CHECK(post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, seat.post(events)).status ==
        200);
  CHECK(stored_count(fx.db) == 6);
}

TEST_CASE("gaps are recorded as findings and cleared when the missing events arrive",
          "[collector][ingest][chain]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  auto cert = fx.pki.seat("cc-01");
  SeatSim seat("cc-01");
  auto events = seat.make(10);
  ClientAuth auth{cert.cert, cert.key, ""};
  REQUIRE(post_events(c.url(), fx.pki.ca, auth, seat.post({events.begin(), events.begin() + 3}))
              .status == 200);
  REQUIRE(
      post_events(c.url(), fx.pki.ca, auth, seat.post({events.begin() + 6, events.end()})).status ==
      200);

  CliResult v = run_cli({"verify", "--db", fx.db});
  CHECK(v.exit_code == 1);
  CHECK(v.out.find("seat cc-01: seq 4..6 missing") != std::string::npos);
  CHECK(v.out.find("finding at ingest") != std::string::npos);
  CHECK(v.out.find("gap seq 4..6") != std::string::npos);

  REQUIRE(post_events(c.url(), fx.pki.ca, auth, seat.post({events.begin() + 3, events.begin() + 6}))
              .status == 200);
  v = run_cli({"verify", "--db", fx.db});
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("seat cc-01: ok, 10 events (seq 1..10)") != std::string::npos);
}

TEST_CASE("oversized bodies get 413 and SIGTERM stops cleanly with data kept",
          "[collector][ingest]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  auto cert = fx.pki.seat("cc-01");
  SeatSim seat("cc-01");
  ClientAuth auth{cert.cert, cert.key, ""};
  auto big = seat.make(4000);  // ~1.6 MiB of NDJSON
  Post p = seat.post(big);
  REQUIRE(p.body.size() > (1u << 20));
  CHECK(post_events(c.url(), fx.pki.ca, auth, p, /*gzip=*/true).status == 413);
  CHECK(post_events(c.url(), fx.pki.ca, auth, p, /*gzip=*/false).status == 413);
  CHECK(
      post_events(c.url(), fx.pki.ca, auth, seat.post({big.begin(), big.begin() + 2000})).status ==
      200);
  CHECK(c.stop() == 0);
  CHECK(stored_count(fx.db) == 2000);
}

TEST_CASE("body encodings: identity and gzip accepted, corrupt gzip 400, unknown encoding 415",
          "[collector][ingest]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  auto cert = fx.pki.seat("cc-01");
  ClientAuth auth{cert.cert, cert.key, ""};
  SeatSim seat("cc-01");
  auto events = seat.make(4);

  Post corrupt = seat.post({events[0], events[1]});
  corrupt.headers.push_back("Content-Encoding: gzip");  // but the body is sent as plain text
  HttpResult r = post_events(c.url(), fx.pki.ca, auth, corrupt, /*gzip=*/false);
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"].get<std::string>().find("not valid gzip") != std::string::npos);

  Post brotli = seat.post({events[0], events[1]});
  brotli.headers.push_back("Content-Encoding: br");
  CHECK(post_events(c.url(), fx.pki.ca, auth, brotli, /*gzip=*/false).status == 415);
  CHECK(stored_count(fx.db) == 0);

  CHECK(post_events(c.url(), fx.pki.ca, auth, seat.post({events[0], events[1]}), /*gzip=*/false)
            .status == 200);
  CHECK(post_events(c.url(), fx.pki.ca, auth, seat.post({events[2], events[3]}), /*gzip=*/true)
            .status == 200);
  CHECK(stored_count(fx.db) == 4);
  CHECK(run_cli({"verify", "--db", fx.db}).exit_code == 0);
}
