// Enrollment tokens on ClickHouse are answered from a cache in each collector instance
// (collector/src/clickhouse_token_cache.hpp). What a seat or an administrator notices: a token
// revoked with `token revoke` is refused by every instance within the documented bound (2 s),
// the seat's other traffic and other seats are unaffected, a newly enrolled seat works at once
// on every instance, and after SIGHUP a revoked token is refused.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "clickhouse_only.hpp"
#include "harness.hpp"
#include "store_fixture.hpp"
#include "support/process.hpp"

using namespace seatlock;
using namespace seatlock::testing;

namespace {

std::string enroll(const std::string& spec, const std::string& seat) {
  CliResult r = run_cli({"enroll", "--store", spec, "--seat", seat});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

}  // namespace

TEST_CASE("a token revoked on ClickHouse is refused by every instance within 2 seconds",
          "[collector][store][clickhouse][auth]") {
  if (!clickhouse_available()) return;
  TempDir dir;
  Pki pki(dir);
  TestStore store("clickhouse", dir);
  const std::string gone = enroll(store.spec, "cc-gone"), keep = enroll(store.spec, "cc-keep");
  StoreCollector a(store.spec, pki, {"--tokens-only"}), b(store.spec, pki, {"--tokens-only"});
  SeatSim g("cc-gone"), k("cc-keep");
  // Both instances have answered (and cached) both tokens.
  for (auto* c : {&a, &b}) {
    REQUIRE(post_events(c->url(), pki.ca, {"", "", gone}, g.post(g.make(2))).status == 200);
    REQUIRE(post_events(c->url(), pki.ca, {"", "", keep}, k.post(k.make(2))).status == 200);
  }
  // A seat enrolled now works at once on both (unknown tokens are never cached).
  const std::string late = enroll(store.spec, "cc-late");
  SeatSim l("cc-late");
  for (auto* c : {&a, &b})
    CHECK(post_events(c->url(), pki.ca, {"", "", late}, l.post(l.make(1))).status == 200);

  CliResult rev = run_cli({"token", "revoke", "--store", store.spec, "--seat", "cc-gone"});
  REQUIRE(rev.out == "revoked 1 token\n");
  auto revoked_at = std::chrono::steady_clock::now();
  // One batch, re-sent until refused: a copy accepted meanwhile is a duplicate, never a gap.
  const Post after_revoke = g.post(g.make(1));
  for (auto* c : {&a, &b}) {
    HttpResult last;
    bool refused = seatlock::test::wait_until(
        [&] {
          last = post_events(c->url(), pki.ca, {"", "", gone}, after_revoke);
          return last.status == 401;
        },
        5'000);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - revoked_at)
                  .count();
    INFO("instance on port " << c->port() << ": refused after " << ms << " ms: " << last.body);
    CHECK(refused);
    CHECK(ms <= 2'500);  // 2 s bound + the time of one request
    CHECK(last.body.find("revoked") != std::string::npos);
    // The other seat goes on.
    CHECK(post_events(c->url(), pki.ca, {"", "", keep}, k.post(k.make(1))).status == 200);
  }

  // SIGHUP: revoked tokens are refused from then on, valid ones keep working.
  CHECK(run_cli({"token", "revoke", "--store", store.spec, "--seat", "cc-late"}).exit_code == 0);
  const Post after_hup = l.post(l.make(1));
  for (auto* c : {&a, &b}) {
    REQUIRE(::kill(c->pid(), SIGHUP) == 0);
    CHECK(seatlock::test::wait_until(
        [&] {
          return post_events(c->url(), pki.ca, {"", "", late}, after_hup).status == 401;
        },
        2'500));
    CHECK(post_events(c->url(), pki.ca, {"", "", keep}, k.post(k.make(1))).status == 200);
    CHECK(c->alive());
  }
  CliResult v = run_cli({"verify", "--store", store.spec});
  INFO(v.out);
  CHECK(v.exit_code == 0);
}
