// The console's sign-in, sessions, CSRF and headers (issue 15, docs/console.md) against a real
// `seatlock-collector serve` on loopback with a real SQLite store and accounts made with the
// real `seatlock-collector user add`.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "console_rig.hpp"
#include "store_fixture.hpp"
#include "support/process.hpp"

using namespace seatlock::testing;
using nlohmann::json;

namespace {

const std::string kAlicePw = "alice long passphrase", kBossPw = "boss long passphrase";

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The events of `kind` in the collector's chain whose details.account is `account`.
std::vector<json> events_of(const ConsoleRig& rig, const std::string& kind,
                            const std::string& account) {
  std::vector<json> out;
  for (auto& e : rig.events(kind))
    if (e["details"].value("account", "") == account) out.push_back(e);
  return out;
}

void check_security_headers(const Reply& r, bool api) {
  INFO("status " << r.status << " body " << r.body);
  CHECK(r.header("content-security-policy") ==
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  CHECK(r.header("strict-transport-security") == "max-age=31536000");
  CHECK(r.header("x-content-type-options") == "nosniff");
  CHECK(r.header("x-frame-options") == "DENY");
  CHECK(r.header("referrer-policy") == "no-referrer");
  if (api) CHECK(r.header("cache-control") == "no-store");
}

}  // namespace

TEST_CASE("console login: right password, cookie flags, me, logout, all recorded with the account",
          "[console]") {
  ConsoleRig rig;
  rig.add_user("alice", "auditor", kAlicePw);
  ConsoleBrowser b(rig);

  Reply r = b.login("alice", kAlicePw);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.json()["account"] == "alice");
  CHECK(r.json()["role"] == "auditor");
  CHECK(r.json()["lang"] == "en");
  CHECK(r.json()["csrf"].get<std::string>().size() == 64);
  std::string set_cookie = r.header("set-cookie");
  CHECK(set_cookie.rfind("seatlock_session=", 0) == 0);
  CHECK(b.cookie.size() == std::string("seatlock_session=").size() + 64);
  for (const char* flag : {"; Path=/", "; HttpOnly", "; Secure", "; SameSite=Strict"})
    CHECK(has(set_cookie, flag));

  Reply me = b.get("/api/me");
  REQUIRE(me.status == 200);
  CHECK(me.json()["account"] == "alice");
  CHECK(me.json()["csrf"] == b.csrf);

  auto logins = events_of(rig, "console.login", "alice");
  REQUIRE(logins.size() == 1);
  CHECK(logins[0]["details"]["address"] == "127.0.0.1");
  CHECK(logins[0]["details"]["actor"] == "alice");

  Reply out = b.post("/api/logout", "{}");
  CHECK(out.status == 204);
  CHECK(has(out.header("set-cookie"), "Max-Age=0"));
  CHECK(b.get("/api/me").status == 401);  // the old cookie is dead
  auto logouts = events_of(rig, "console.logout", "alice");
  REQUIRE(logouts.size() == 1);
  CHECK(logouts[0]["details"]["address"] == "127.0.0.1");
  CHECK(rig.cli({"verify"}).exit_code == 0);  // the collector chain is intact
}

TEST_CASE("console login refusals: wrong password 401, locked 429 after 5, disabled 403",
          "[console]") {
  ConsoleRig rig;
  rig.add_user("alice", "auditor", kAlicePw);
  rig.add_user("carol", "auditor", kAlicePw);
  ConsoleBrowser b(rig);

  Reply bad = b.login("alice", "not her password");
  CHECK(bad.status == 401);
  CHECK(bad.json()["error"] == "wrong name or password");
  CHECK(b.login("nobody", "whatever it is").status == 401);  // unknown: the same answer
  auto failed = events_of(rig, "console.login_failed", "alice");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]["details"]["reason"] == "bad");
  CHECK(failed[0]["details"]["address"] == "127.0.0.1");
  CHECK(events_of(rig, "console.login_failed", "nobody").size() == 1);

  for (int i = 0; i < 4; ++i) CHECK(b.login("alice", "still not it!").status == 401);
  Reply locked = b.login("alice", kAlicePw);  // even the right password now
  CHECK(locked.status == 429);
  CHECK(locked.json()["locked_until_ms"].get<std::int64_t>() > 0);
  CHECK(std::stoi(locked.header("retry-after")) > 800);  // 15 minutes
  CHECK(locked.header("set-cookie").empty());
  failed = events_of(rig, "console.login_failed", "alice");
  REQUIRE(failed.size() == 6);
  CHECK(failed.back()["details"]["reason"] == "locked");

  // Disabled: refused at login, and an open session ends at its next request.
  ConsoleBrowser c(rig);
  REQUIRE(c.login("carol", kAlicePw).status == 200);
  CliResult dis = rig.cli({"user", "disable", "carol"});
  INFO(dis.out);
  REQUIRE(dis.exit_code == 0);
  CHECK(c.get("/api/me").status == 401);
  ConsoleBrowser c2(rig);
  Reply d = c2.login("carol", kAlicePw);
  CHECK(d.status == 403);
  failed = events_of(rig, "console.login_failed", "carol");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]["details"]["reason"] == "disabled");
}

TEST_CASE("console API: 401 without a session, CSRF and Origin checked, nothing changed on refusal",
          "[console]") {
  ConsoleRig rig;
  rig.add_user("alice", "auditor", kAlicePw);
  ConsoleBrowser anon(rig);
  for (const char* path : {"/api/me", "/api/fleet"}) {
    Reply r = anon.get(path);
    CHECK(r.status == 401);
    CHECK(r.json().contains("error"));
  }
  CHECK(anon.post("/api/me/lang", R"({"lang":"zh-CN"})", false).status == 401);
  CHECK(anon.get("/api/no-such-thing").status == 404);

  ConsoleBrowser b(rig);
  REQUIRE(b.login("alice", kAlicePw).status == 200);
  const std::string zh = R"({"lang":"zh-CN"})";
  Reply r = b.post("/api/me/lang", zh, /*with_csrf=*/false);
  CHECK(r.status == 403);
  CHECK(r.json()["error"] == "CSRF token missing or wrong");
  CHECK(b.post("/api/me/lang", zh, true, std::string(64, '0')).status == 403);
  ConsoleBrowser other_site = b;
  other_site.origin = "https://evil.example";
  CHECK(other_site.post("/api/me/lang", zh).status == 403);
  CHECK(b.get("/api/me").json()["lang"] == "en");  // nothing changed
  // A login posted from another site's page is refused too.
  ConsoleBrowser evil(rig);
  evil.origin = "https://evil.example";
  CHECK(evil.login("alice", kAlicePw).status == 403);

  CHECK(b.post("/api/me/lang", R"({"lang":"fr"})").status == 400);
  CHECK(b.post("/api/me/lang", zh).status == 204);
  CHECK(b.get("/api/me").json()["lang"] == "zh-CN");
  // Kept with the account: after logout, and after a restart of the collector.
  REQUIRE(b.post("/api/logout", "{}").status == 204);
  rig.stop();
  rig.start();
  ConsoleBrowser again(rig);
  Reply l = again.login("alice", kAlicePw);
  REQUIRE(l.status == 200);
  CHECK(l.json()["lang"] == "zh-CN");
}

TEST_CASE("every console answer carries the security headers", "[console]") {
  ConsoleRig rig;
  rig.add_user("alice", "auditor", kAlicePw);
  ConsoleBrowser b(rig);
  Reply root = b.get("/");
  CHECK(root.status == 302);
  CHECK(root.header("location") == "/console/");
  check_security_headers(root, false);
  Reply page = b.get("/console/");
  CHECK(page.status == 200);
  CHECK(has(page.header("content-type"), "text/html"));
  check_security_headers(page, false);
  check_security_headers(b.get("/console/no-such-page.html"), false);
  check_security_headers(b.get("/api/me"), true);  // 401
  check_security_headers(b.login("alice", "wrong password!"), true);
  REQUIRE(b.login("alice", kAlicePw).status == 200);
  check_security_headers(b.get("/api/me"), true);
  check_security_headers(b.post("/api/me/lang", "{}", false), true);  // 403
  check_security_headers(b.get("/nowhere"), true);  // the console listener's own 404
}

TEST_CASE("console on its own listener works while the seats' listener requires client certs",
          "[console]") {
  ConsoleRig rig({"--require-client-cert"});
  rig.add_user("alice", "auditor", kAlicePw);
  ConsoleBrowser b(rig);
  REQUIRE(b.login("alice", kAlicePw).status == 200);
  CHECK(b.get("/api/me").status == 200);
  CHECK(b.get("/console/").status == 200);
  // Seat routes are never on the console listener ...
  CHECK(b.get("/v1/policy").status == 404);
  CHECK(b.post("/v1/events", "").status == 404);
  // ... and the seats' listener still refuses a client without a certificate (no console there).
  Reply main = rig.request("GET", rig.main_base() + "/api/me");
  CHECK(main.status == 0);
}

TEST_CASE("without --console-listen the console answers on the main listener", "[console]") {
  ConsoleRig rig({}, /*own_listener=*/false);
  rig.add_user("alice", "auditor", kAlicePw);
  ConsoleBrowser b(rig);
  REQUIRE(b.login("alice", kAlicePw).status == 200);
  CHECK(b.get("/api/me").json()["account"] == "alice");
  CHECK(b.get("/healthz").status == 200);  // the seats' routes are still there
}

TEST_CASE("the language choice is kept with the account on every store", "[console][store]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    TempDir dir;
    TestStore store(kind, dir);
    ConsoleRig rig(store.spec, {}, true);
    rig.add_user("alice", "auditor", kAlicePw);
    ConsoleBrowser b(rig);
    REQUIRE(b.login("alice", kAlicePw).status == 200);
    REQUIRE(b.post("/api/me/lang", R"({"lang":"zh-CN"})").status == 204);
    rig.stop();
    rig.start();
    ConsoleBrowser again(rig);
    Reply l = again.login("alice", kAlicePw);
    INFO(l.body);
    REQUIRE(l.status == 200);
    CHECK(l.json()["lang"] == "zh-CN");
  }
}

TEST_CASE("a console address that cannot be used is named as --console-listen", "[console]") {
  TempDir dir;
  Pki pki(dir);
  seatlock::test::RunResult r =
      seatlock::test::run_command({collector_binary(), "serve", "--listen", "127.0.0.1:0", "--db",
                                   dir / "c.db", "--cert", pki.server_cert, "--key", pki.server_key,
                                   "--ca", pki.ca, "--console-listen", "no-port-here"});
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out, Catch::Contains("--console-listen: expected HOST:PORT, got \"no-port-here\""));
}
