// `seatlock-collector user add|passwd|disable|enable|list` through the real binary, on SQLite and
// on ClickHouse: what is stored (Argon2id only), precise refusals, the console.user_* events in
// the collector's own chain, and logins against the stored accounts.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "console/login_policy.hpp"
#include "console/password.hpp"
#include "harness.hpp"
#include "store_fixture.hpp"
#include "store_open.hpp"

using namespace seatlock::testing;
using namespace seatlock::collector;

namespace {

struct Cli {
  const TempDir& dir;
  const TestStore& store;
  // Runs `user SUB NAME... --store SPEC --collector-key ...` with `input` on stdin; stdout and
  // stderr together.
  CliResult user(std::vector<std::string> args, const std::string& input = "") const {
    std::string in_path = dir / "stdin.txt";
    std::ofstream(in_path, std::ios::trunc) << input;
    args.insert(args.begin(), "user");
    args.insert(args.end(), {"--store", store.spec});
    if (args[1] != "list")
      args.insert(args.end(), {"--collector-key", dir / "collector.key", "--instance", "t1"});
    std::string cmd = collector_binary();
    for (const auto& a : args) {
      std::string q = "'";
      for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
      cmd += " " + q + "'";
    }
    cmd += " <'" + in_path + "' 2>&1";
    CliResult r;
    FILE* f = popen(cmd.c_str(), "r");
    REQUIRE(f);
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) r.out.append(buf, n);
    int status = pclose(f);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }
};

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("user add/passwd/disable/enable/list on every store", "[collector][console][store]") {
  const std::string pw1 = "first secret phrase", pw2 = "second secret phrase";
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    TempDir dir;
    TestStore store(kind, dir);
    Cli cli{dir, store};

    CliResult r = cli.user({"add", "alice", "--role", "auditor", "--password-stdin"}, pw1 + "\n");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "added auditor account \"alice\"\n");
    REQUIRE(
        cli.user({"add", "boss", "--role", "admin", "--password-stdin"}, pw1 + "\n").exit_code ==
        0);

    // Refusals, with the reason, and nothing stored.
    r = cli.user({"add", "alice", "--role", "admin", "--password-stdin"}, pw1 + "\n");
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("account \"alice\" exists already (auditor, enabled)") != std::string::npos);
    r = cli.user({"add", "Carol", "--role", "auditor", "--password-stdin"}, pw1 + "\n");
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("the account name must start with a lower-case letter: \"Carol\"") !=
          std::string::npos);
    r = cli.user({"add", "carol", "--role", "root", "--password-stdin"}, pw1 + "\n");
    CHECK(r.out.find("\"root\" is not a role; use auditor or admin") != std::string::npos);
    r = cli.user({"add", "carol", "--role", "auditor", "--password-stdin"}, "short\n");
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("the password has 5 bytes; at least 12") != std::string::npos);
    r = cli.user({"add", "carol", "--role", "auditor"});  // no terminal under the test
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("give it with --password-stdin") != std::string::npos);
    CHECK(cli.user({"passwd", "nobody", "--password-stdin"}, pw2 + "\n").exit_code == 2);

    r = cli.user({"list"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("alice") != std::string::npos);
    CHECK(r.out.find("carol") == std::string::npos);
    auto listed = nlohmann::json::parse(cli.user({"list", "--json"}).out);
    REQUIRE(listed.size() == 2);
    CHECK(listed[0]["name"] == "alice");
    CHECK(listed[0]["role"] == "auditor");
    CHECK(listed[0]["status"] == "enabled");
    CHECK(listed[1]["name"] == "boss");
    CHECK(listed[1]["role"] == "admin");

    auto opened = open_store(store.spec, false);
    auto login = [&](const std::string& name, const std::string& pw) {
      console::LoginPolicy p([&](const std::string& n) { return opened->account(n); },
                             [] { return std::int64_t{0}; });
      return p.verify(name, pw, "127.0.0.1").verdict;
    };
    std::string hash1 = opened->account("alice")->password_hash;
    CHECK(hash1.rfind("$argon2id$", 0) == 0);
    CHECK(login("alice", pw1) == console::LoginVerdict::ok);
    CHECK(login("alice", pw2) == console::LoginVerdict::bad);

    REQUIRE(cli.user({"passwd", "alice", "--password-stdin"}, pw2 + "\n").exit_code == 0);
    CHECK(opened->account("alice")->password_hash != hash1);
    CHECK(login("alice", pw1) == console::LoginVerdict::bad);
    CHECK(login("alice", pw2) == console::LoginVerdict::ok);

    r = cli.user({"disable", "alice"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "disabled auditor account \"alice\"\n");
    CHECK(nlohmann::json::parse(cli.user({"list", "--json"}).out)[0]["status"] == "disabled");
    CHECK(login("alice", pw2) == console::LoginVerdict::disabled);
    REQUIRE(cli.user({"enable", "alice"}).exit_code == 0);
    CHECK(login("alice", pw2) == console::LoginVerdict::ok);
    CHECK(opened->account("alice")->role == "auditor");

    // The password never reaches the store in clear.
    if (kind == "sqlite") {
      std::string bytes = file_bytes(store.sqlite_path) + file_bytes(store.sqlite_path + "-wal");
      CHECK(bytes.find("secret phrase") == std::string::npos);
      CHECK(bytes.find("$argon2id$") != std::string::npos);
    } else {
      std::string rows = store.ch("SELECT * FROM " + store.database + ".accounts FORMAT TSV");
      CHECK(rows.find("secret phrase") == std::string::npos);
      CHECK(rows.find("$argon2id$") != std::string::npos);
    }

    // Every change is an event in the collector's own chain, with who did it; the chain verifies.
    CliResult q = run_cli({"query", "--store", store.spec, "--json"});
    REQUIRE(q.exit_code == 0);
    std::vector<std::string> kinds;
    std::istringstream lines(q.out);
    for (std::string line; std::getline(lines, line);) {
      auto e = nlohmann::json::parse(line);
      if (e["kind"].get<std::string>().rfind("console.", 0) != 0) continue;
      kinds.push_back(e["kind"]);
      CHECK(e["details"]["account"].is_string());
      CHECK_FALSE(e["details"]["actor"].get<std::string>().empty());
      CHECK(line.find("secret phrase") == std::string::npos);
    }
    CHECK(kinds == std::vector<std::string>{"console.user_added", "console.user_added",
                                            "console.user_password_changed",
                                            "console.user_disabled", "console.user_enabled"});
    CHECK(
        run_cli({"verify", "--store", store.spec, "--collector-pubkey", dir / "collector.key.pub"})
            .exit_code == 0);
  }
}
