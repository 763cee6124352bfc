// Console login policy and sessions (collector/src/console/): verdicts, lockout per account and
// per source address with an injected clock, session expiry.
#include <catch2/catch.hpp>
#include <map>

#include "console/login_policy.hpp"
#include "console/password.hpp"
#include "console/sessions.hpp"

using namespace seatlock::collector;
using namespace seatlock::collector::console;

namespace {

constexpr std::int64_t kMin = 60 * 1000;

struct Fixture {
  std::int64_t now = 1'800'000'000'000;
  std::map<std::string, AccountRecord> accounts;
  LoginPolicy policy{[this](const std::string& n) -> std::optional<AccountRecord> {
                       auto it = accounts.find(n);
                       if (it == accounts.end()) return std::nullopt;
                       return it->second;
                     },
                     [this] { return now; }};
  Fixture() {
    static const std::string hash = hash_password("correct horse battery");
    accounts["alice"] = AccountRecord{"alice", "auditor", hash, false, 1, 1, ""};
    accounts["root-admin"] = AccountRecord{"root-admin", "admin", hash, true, 1, 1, ""};
  }
  LoginVerdict login(const std::string& name, const std::string& pw,
                     const std::string& addr = "10.0.0.1") {
    return policy.verify(name, pw, addr).verdict;
  }
};

}  // namespace

TEST_CASE("passwords are stored as Argon2id and checked", "[collector][console]") {
  std::string h = hash_password("correct horse battery");
  CHECK(h.rfind("$argon2id$", 0) == 0);
  CHECK(h.find("correct horse") == std::string::npos);
  CHECK(verify_password(h, "correct horse battery"));
  CHECK_FALSE(verify_password(h, "correct horse batterY"));
  CHECK_FALSE(verify_password("", "x"));
  CHECK_FALSE(needs_rehash(h));
  CHECK(hash_password("correct horse battery") != h);  // salted
  CHECK(dummy_hash().rfind("$argon2id$", 0) == 0);
}

TEST_CASE("account names and passwords are refused with the reason", "[collector][console]") {
  CHECK_FALSE(name_problem("alice"));
  CHECK_FALSE(name_problem("li.wei_2-a"));
  CHECK(*name_problem("") == "the account name is empty");
  CHECK(*name_problem("Alice") == "the account name must start with a lower-case letter");
  CHECK(*name_problem("1bob") == "the account name must start with a lower-case letter");
  CHECK(*name_problem("bob smith") ==
        "the account name contains a byte 0x20; use lower-case letters, digits, '.', '_' or '-'");
  CHECK(*name_problem("bob/x") ==
        "the account name contains '/'; use lower-case letters, digits, '.', '_' or '-'");
  CHECK(*name_problem(std::string(33, 'a')) == "the account name has 33 characters; at most 32");
  CHECK(*password_problem("short") == "the password has 5 bytes; at least 12");
  CHECK(*password_problem("twelve chars\tx") == "the password contains a control character");
  CHECK_FALSE(password_problem("twelve chars"));
}

TEST_CASE("login verdicts: ok, bad, disabled, unknown", "[collector][console]") {
  Fixture f;
  LoginResult r = f.policy.verify("alice", "correct horse battery", "10.0.0.1");
  REQUIRE(r.verdict == LoginVerdict::ok);
  CHECK(r.account->role == "auditor");
  CHECK(f.login("alice", "wrong password!") == LoginVerdict::bad);
  CHECK(f.login("nobody", "correct horse battery") == LoginVerdict::bad);
  // Disabled shows only to the right password; a guesser learns nothing.
  CHECK(f.login("root-admin", "correct horse battery") == LoginVerdict::disabled);
  CHECK(f.login("root-admin", "wrong password!") == LoginVerdict::bad);
}

TEST_CASE("5 failures lock an account for 15 minutes, then twice as long", "[collector][console]") {
  Fixture f;
  for (int i = 0; i < 4; ++i) CHECK(f.login("alice", "guess") == LoginVerdict::bad);
  f.now += kMin;
  CHECK(f.login("alice", "guess") == LoginVerdict::bad);  // the 5th: locks
  LoginResult r = f.policy.verify("alice", "correct horse battery", "10.9.9.9");
  CHECK(r.verdict == LoginVerdict::locked);  // even the owner, from another address
  CHECK(r.locked_until_ms == f.now + 15 * kMin);
  f.now += 15 * kMin - 1;
  CHECK(f.login("alice", "correct horse battery") == LoginVerdict::locked);
  f.now += 1;
  // Released; the next 5 failures lock for 30 minutes.
  for (int i = 0; i < 5; ++i) CHECK(f.login("alice", "guess") == LoginVerdict::bad);
  CHECK(f.policy.verify("alice", "x", "10.0.0.2").locked_until_ms == f.now + 30 * kMin);
  f.now += 30 * kMin;
  CHECK(f.login("alice", "correct horse battery") == LoginVerdict::ok);
  // A success starts afresh: 15 minutes again.
  for (int i = 0; i < 5; ++i) CHECK(f.login("alice", "guess") == LoginVerdict::bad);
  CHECK(f.policy.verify("alice", "x", "10.0.0.2").locked_until_ms == f.now + 15 * kMin);
}

TEST_CASE("failures spread over more than 15 minutes do not lock", "[collector][console]") {
  Fixture f;
  for (int i = 0; i < 8; ++i) {
    CHECK(f.login("alice", "guess") == LoginVerdict::bad);
    f.now += 4 * kMin;  // 4 per 16 minutes
  }
  CHECK(f.login("alice", "correct horse battery") == LoginVerdict::ok);
}

TEST_CASE("unknown names lock like real ones, and one address spraying names is locked",
          "[collector][console]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) CHECK(f.login("ghost", "guess", "10.0.0.7") == LoginVerdict::bad);
  CHECK(f.login("ghost", "guess", "10.0.0.8") == LoginVerdict::locked);
  // 20 failures from one address over 20 names lock that address, not others.
  for (int i = 0; i < 20; ++i)
    CHECK(f.login("user" + std::to_string(i), "guess", "192.0.2.5") == LoginVerdict::bad);
  CHECK(f.login("alice", "correct horse battery", "192.0.2.5") == LoginVerdict::locked);
  CHECK(f.login("alice", "correct horse battery", "192.0.2.6") == LoginVerdict::ok);
  f.now += 15 * kMin;
  CHECK(f.login("alice", "correct horse battery", "192.0.2.5") == LoginVerdict::ok);
}

TEST_CASE("sessions: 256-bit ids kept hashed, idle and absolute expiry", "[collector][console]") {
  std::int64_t now = 1'800'000'000'000;
  SessionTable t([&] { return now; });
  std::string id = t.open("alice", "auditor");
  CHECK(id.size() == 64);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(t.open("alice", "auditor") != id);
  auto s = t.use(id);
  REQUIRE(s);
  CHECK(s->account == "alice");
  CHECK(s->role == "auditor");
  CHECK_FALSE(t.use(id + "0"));
  // Another first digit (an id that starts with '0' would otherwise be itself: 1 run in 16).
  CHECK_FALSE(t.use(std::string(id[0] == '0' ? "1" : "0") + id.substr(1)));
  // Idle: 30 minutes without a request ends it.
  now += 29 * kMin;
  CHECK(t.use(id));
  now += 30 * kMin;
  CHECK_FALSE(t.use(id));
  CHECK_FALSE(t.use(id));  // gone for good
  // Absolute: 12 hours even when used every 20 minutes.
  std::string busy = t.open("bob", "admin");
  std::int64_t start = now;
  while (now + 20 * kMin < start + 12 * 60 * kMin) {
    now += 20 * kMin;
    REQUIRE(t.use(busy));
  }
  now = start + 12 * 60 * kMin;
  CHECK_FALSE(t.use(busy));
  // Disabling an account ends its sessions.
  std::string a1 = t.open("carol", "auditor"), a2 = t.open("carol", "auditor");
  CHECK(t.close_account("carol") == 2);
  CHECK_FALSE(t.use(a1));
  CHECK_FALSE(t.use(a2));
}
