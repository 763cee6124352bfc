// Central actions against the real `seatlock-collector` binary (docs/fleet.md, "Actions from the
// center"): `net close|open`, `grant usb|net` and `revoke` edit the fleet tree, publish at once
// (bundles verified with the fleet public key, as a seat does) and record each action in the
// collector's own chain (`query`, `verify`). The commands run in the short form IT types, with
// paths from a config file as a packaged collector has.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/fleet/verify.hpp"
#include "core/util/time.hpp"
#include "fleet/bundle_dir.hpp"
#include "harness.hpp"
#include "store_fixture.hpp"
#include "support/process.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;
using seatlock::test::read_file;
using seatlock::test::write_file;
namespace fs = std::filesystem;

namespace {

// Runs the collector binary with stdout and stderr together (error messages go to stderr).
CliResult run_all(const std::vector<std::string>& args) {
  std::string cmd = collector_binary();
  for (const auto& a : args) {
    std::string q = "'";
    for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    cmd += " " + q + "'";
  }
  cmd += " 2>&1";
  CliResult r;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Seats cc-0101, cc-0102 (no group) and cc-0201, cc-0202 (group floor-2); a config file as
// /etc/seatlock-collector/fleet.json would hold on a packaged collector, naming a store of `kind`
// (every case runs on SQLite and on a ClickHouse server the test binary starts).
struct Central {
  TempDir dir;
  TestStore store;
  std::string tree = dir / "tree", key = dir / "fleet.key", bundles = dir / "bundles",
              config = dir / "fleet.json";
  explicit Central(const std::string& kind) : store(kind, dir) {
    write_file(tree + "/groups.json", R"({"seats": ["cc-0101", "cc-0102", "cc-0201", "cc-0202"],
  "groups": [{"name": "floor-2", "match": ["cc-02*"]}]})");
    write_file(tree + "/all/10-base.json",
               R"({"network": {"mode": "enforce", "dns": ["10.0.0.53"],
  "allow": [{"to": "10.20.0.0/16", "ports": [443], "essential": true},
            {"to": "10.30.0.0/16", "ports": [443]}]}})");
    REQUIRE(run_cli({"fleet", "keygen", "--out", key}).exit_code == 0);
    write_file(
        config,
        json{{"tree", tree}, {"key", key}, {"bundles", bundles}, {"store", store.spec}}.dump());
  }
  // A central action in the short form, as alice.
  CliResult act(std::vector<std::string> args) const {
    args.insert(args.end(), {"--config", config, "--by", "alice"});
    // Next to a SQLite file by default; a ClickHouse collector keeps it in
    // /var/lib/seatlock-collector, which a test must not touch.
    if (store.kind == "clickhouse")
      args.insert(args.end(), {"--collector-key", dir / "collector.key"});
    return run_all(args);
  }
  std::uint64_t current() const {
    return collector::fleet_cli::BundleDir(bundles).current_version();
  }
  // The fleet files of `seat`'s published bundle, verified with the fleet public key.
  std::map<std::string, json> bundle_files(const std::string& seat) const {
    auto all = collector::fleet_cli::BundleDir(bundles).read_all();
    REQUIRE(all.count(seat));
    std::string pub = read_file(key + ".pub");
    fleet::SeatTrust trust{{pub.substr(0, pub.find('\n'))}, seat, 0, now_ms()};
    auto verdict = fleet::verify_bundle(all[seat].document, trust);
    REQUIRE(verdict.ok());
    std::map<std::string, json> files;
    for (const auto& f : verdict.bundle->files) files[f.name] = json::parse(f.text);
    return files;
  }
  bool closed_in_bundle(const std::string& seat) const {
    for (const auto& [name, doc] : bundle_files(seat))
      if (doc.contains("network") && doc["network"].contains("closed")) return true;
    return false;
  }
  // The collector events of `kind` (NDJSON lines from `query --json`), optionally about `seat`.
  std::vector<json> events(const std::string& kind, const std::string& seat = "") const {
    std::vector<std::string> args{"query", "--store", store.spec, "--kind", kind, "--json"};
    if (!seat.empty()) args.insert(args.end(), {"--seat", seat});
    CliResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    std::vector<json> out;
    std::istringstream lines(r.out);
    for (std::string l; std::getline(lines, l);)
      if (!l.empty()) out.push_back(json::parse(l));
    return out;
  }
  void verify_clean() const {
    CliResult v = run_all({"verify", "--store", store.spec});
    INFO(v.out);
    CHECK(v.exit_code == 0);
  }
};

std::vector<std::string> seats_of(const json& event) {
  return event["details"]["seats"].get<std::vector<std::string>>();
}

}  // namespace

TEST_CASE(
    "net close --group closes exactly that group's seats, published and recorded, and net open "
    "reopens them",
    "[fleet][central]") {
  const std::string kind = GENERATE(from_range(store_kinds()));
  INFO("store " << kind);
  Central c(kind);
  CliResult close =
      c.act({"net", "close", "--group", "floor-2", "--until", "4h", "--ticket", "CHG-100"});
  INFO(close.out);
  REQUIRE(close.exit_code == 0);
  CHECK(has(close.out, "internet closed for group floor-2 (2 seats: cc-0201, cc-0202) until "));
  CHECK(has(close.out, ", version 1, ticket CHG-100"));

  json file = json::parse(read_file(c.tree + "/groups/floor-2/95-net-closed.json"));
  json closed = file["network"]["closed"];
  CHECK(closed["ticket"] == "CHG-100");
  CHECK(closed["by"] == "alice");
  auto since = parse_rfc3339(closed["since"].get<std::string>());
  auto until = parse_rfc3339(closed["until"].get<std::string>());
  REQUIRE(since);
  REQUIRE(until);
  // --until 4h: four hours from the command, in whole seconds.
  CHECK(*until - *since > 4 * 3600 * 1000 - 1000);
  CHECK(*until - *since <= 4 * 3600 * 1000);

  CHECK(c.closed_in_bundle("cc-0201"));
  CHECK(c.closed_in_bundle("cc-0202"));
  CHECK_FALSE(c.closed_in_bundle("cc-0101"));
  CHECK_FALSE(c.closed_in_bundle("cc-0102"));

  auto recorded = c.events("fleet.net_closed");
  REQUIRE(recorded.size() == 1);
  const json& d = recorded[0]["details"];
  CHECK(d["actor"] == "alice");
  CHECK(seats_of(recorded[0]) == std::vector<std::string>{"cc-0201", "cc-0202"});
  CHECK(d["ticket"] == "CHG-100");
  CHECK(d["until"] == closed["until"]);
  CHECK(d["version"] == 1);
  CHECK(d["scope"] == "group floor-2");
  CHECK(recorded[0]["seat"]["id"].get<std::string>().rfind("collector:", 0) == 0);
  // An auditor looking at one seat sees the closure beside its own events; other seats do not.
  CHECK(c.events("fleet.net_closed", "cc-0202").size() == 1);
  CHECK(c.events("fleet.net_closed", "cc-0101").empty());
  CHECK(c.events("fleet.published").size() == 1);

  // The whole fleet closes too; opening floor-2 then leaves its seats closed by all/.
  REQUIRE(c.act({"net", "close", "--all", "--ticket", "CHG-101"}).exit_code == 0);
  CHECK(c.closed_in_bundle("cc-0101"));
  CliResult open = c.act({"net", "open", "--group", "floor-2", "--ticket", "CHG-102"});
  INFO(open.out);
  REQUIRE(open.exit_code == 0);
  CHECK(has(open.out, "internet opened for group floor-2 (2 seats), version 3, ticket CHG-102"));
  CHECK(has(open.out,
            "note: 2 of these seats stay closed by all/95-net-closed.json: cc-0201, "
            "cc-0202"));
  CHECK_FALSE(fs::exists(c.tree + "/groups/floor-2/95-net-closed.json"));
  for (const auto& [name, doc] : c.bundle_files("cc-0201"))
    CHECK(name != "groups/floor-2/95-net-closed.json");

  REQUIRE(c.act({"net", "open", "--all", "--ticket", "CHG-103"}).exit_code == 0);
  for (const char* seat : {"cc-0101", "cc-0102", "cc-0201", "cc-0202"})
    CHECK_FALSE(c.closed_in_bundle(seat));
  auto opened = c.events("fleet.net_opened");
  REQUIRE(opened.size() == 2);
  CHECK(opened[0]["details"]["closed_ticket"] == "CHG-100");
  CHECK(opened[0]["details"]["still_closed"]["all/95-net-closed.json"].size() == 2);
  CHECK(seats_of(opened[1]).size() == 4);
  CHECK(opened[1]["details"]["version"] == 4);

  // Opening what is not closed is refused and changes nothing.
  CliResult again = c.act({"net", "open", "--seat", "cc-0101", "--ticket", "CHG-104"});
  CHECK(again.exit_code == 1);
  CHECK(has(again.out, "error: seat cc-0101 has no closure (no seats/cc-0101/95-net-closed.json)"));
  CHECK(c.current() == 4);
  c.verify_clean();
}

TEST_CASE(
    "net close refuses a tree with an error, an unknown scope or a failed publish and "
    "changes nothing",
    "[fleet][central]") {
  const std::string kind = GENERATE(from_range(store_kinds()));
  INFO("store " << kind);
  Central c(kind);
  SECTION("an error elsewhere in the tree") {
    write_file(c.tree + "/seats/cc-0101/20-seat.json", "{\"usb\": {\n  \"mode\": \"off\"}}");
    CliResult r = c.act({"net", "close", "--group", "floor-2", "--ticket", "CHG-200"});
    CHECK(r.exit_code == 1);
    CHECK(has(r.out,
              "error: seats/cc-0101/20-seat.json:2:11: /usb/mode: expected \"enforce\" or "
              "\"audit\", got \"off\" (seat cc-0101)"));
    CHECK(has(r.out, "1 error(s); the tree was not changed and nothing was published"));
  }
  SECTION("a group groups.json does not have") {
    CliResult r = c.act({"net", "close", "--group", "floor-9", "--ticket", "CHG-201"});
    CHECK(r.exit_code == 1);
    CHECK(has(r.out, "no group \"floor-9\" in " + c.tree + "/groups.json"));
  }
  SECTION("a seat the fleet does not know (a new seats/ directory would add a seat)") {
    CliResult r = c.act({"net", "close", "--seat", "cc-9999", "--ticket", "CHG-202"});
    CHECK(r.exit_code == 1);
    CHECK(has(r.out, "seat \"cc-9999\" is not in the fleet tree"));
    CHECK_FALSE(fs::exists(c.tree + "/seats/cc-9999"));
  }
  SECTION("the publish fails after the tree was written: the tree is put back") {
    fs::create_directories(c.bundles);
    int fd = ::open((c.bundles + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);  // another publish in progress
    CliResult r = c.act({"net", "close", "--group", "floor-2", "--ticket", "CHG-203"});
    ::close(fd);
    INFO(r.out);
    CHECK(r.exit_code == 1);
  }
  SECTION("bad flags") {
    CHECK(has(c.act({"net", "close", "--group", "floor-2", "--ticket", "CHG 7"}).out,
              "--ticket: expected a reference of letters, digits"));
    CHECK(
        has(c.act({"net", "close", "--group", "floor-2", "--seat", "cc-0101", "--ticket", "X"}).out,
            "give exactly one of --seat ID, --group NAME or --all"));
    CHECK(has(c.act({"net", "close", "--all", "--until", "2020-01-01", "--ticket", "X"}).out,
              "--until: 2020-01-01 has already passed"));
    CHECK(has(c.act({"net", "close", "--all", "--until", "soon", "--ticket", "X"}).out,
              "--until: expected an RFC 3339 time"));
  }
  CHECK_FALSE(fs::exists(c.tree + "/groups/floor-2/95-net-closed.json"));
  CHECK(c.current() == 0);
  CHECK(c.events("fleet.net_closed").empty());
}

TEST_CASE(
    "grant usb and grant net write dated files that reach the seats' bundles, and revoke "
    "removes them",
    "[fleet][central]") {
  const std::string kind = GENERATE(from_range(store_kinds()));
  INFO("store " << kind);
  Central c(kind);
  CliResult usb =
      c.act({"grant", "usb", "--seat", "cc-0101", "--vid", "0951", "--pid", "1666", "--serial",
             "AA01", "--read-only", "--until", "2h", "--ticket", "CHG-300"});
  INFO(usb.out);
  REQUIRE(usb.exit_code == 0);
  const std::string usb_file = "seats/cc-0101/85-grant-usb-CHG-300.json";
  json entry = json::parse(read_file(c.tree + "/" + usb_file))["usb"]["exceptions"][0];
  CHECK(entry["vid"] == "0951");
  CHECK(entry["pid"] == "1666");
  CHECK(entry["serial"] == "AA01");
  CHECK(entry["read_only"] == true);
  CHECK(entry["ticket"] == "CHG-300");
  auto until = parse_rfc3339(entry["until"].get<std::string>());
  REQUIRE(until);
  CHECK(*until > now_ms() + 3600 * 1000);
  CHECK(c.bundle_files("cc-0101").at(usb_file)["usb"]["exceptions"][0] == entry);
  CHECK_FALSE(c.bundle_files("cc-0102").count(usb_file));

  CliResult net = c.act({"grant", "net", "--group", "floor-2", "--user", "bob", "--user", "carol",
                         "--usergroup", "billing", "--to", "10.9.0.0/16", "--ports",
                         "443,8000-8080", "--until", "2h", "--ticket", "CHG-301"});
  INFO(net.out);
  REQUIRE(net.exit_code == 0);
  const std::string net_file = "groups/floor-2/85-grant-net-CHG-301.json";
  json ne = json::parse(read_file(c.tree + "/" + net_file))["network"]["exceptions"][0];
  CHECK(ne["users"] == json({"bob", "carol"}));
  CHECK(ne["groups"] == json({"billing"}));
  CHECK(ne["allow"] == json::parse(R"([{"to": "10.9.0.0/16", "ports": [443, "8000-8080"]}])"));
  CHECK(ne["ticket"] == "CHG-301");
  CHECK(c.bundle_files("cc-0202").at(net_file) == json::parse(read_file(c.tree + "/" + net_file)));
  CHECK_FALSE(c.bundle_files("cc-0101").count(net_file));

  auto added = c.events("fleet.grant_added");
  REQUIRE(added.size() == 2);
  CHECK(added[0]["details"]["actor"] == "alice");
  CHECK(added[0]["details"]["ticket"] == "CHG-300");
  CHECK(added[0]["details"]["grant"] == entry);
  CHECK(seats_of(added[0]) == std::vector<std::string>{"cc-0101"});
  CHECK(seats_of(added[1]) == std::vector<std::string>{"cc-0201", "cc-0202"});
  CHECK(added[1]["details"]["version"] == 2);

  // Precise refusals, nothing changed.
  CHECK(has(c.act({"grant", "usb", "--seat", "cc-0101", "--vid", "951", "--pid", "1666", "--until",
                   "2h", "--ticket", "CHG-302"})
                .out,
            "--vid: expected"));
  CHECK(has(c.act({"grant", "net", "--seat", "cc-0101", "--user", "bob", "--to", "10.1.0.0/8",
                   "--until", "2h", "--ticket", "CHG-303"})
                .out,
            "did you mean 10.0.0.0/8?"));
  CHECK(has(c.act({"grant", "net", "--seat", "cc-0101", "--to", "10.1.0.0/16", "--until", "2h",
                   "--ticket", "CHG-304"})
                .out,
            "--user NAME and/or --usergroup GROUP"));
  CHECK(has(c.act({"grant", "usb", "--seat", "cc-0101", "--vid", "0951", "--pid", "1666",
                   "--ticket", "CHG-305"})
                .out,
            "--until is required"));
  CHECK(has(c.act({"grant", "usb", "--seat", "cc-0101", "--vid", "0951", "--pid", "1666",
                   "--serial", "AA01", "--read-only", "--until", "2h", "--ticket", "CHG-300"})
                .out,
            "already granted in " + usb_file));
  CHECK(c.current() == 2);

  CliResult revoke = c.act({"revoke", "--ticket", "CHG-300"});
  INFO(revoke.out);
  REQUIRE(revoke.exit_code == 0);
  CHECK(has(revoke.out, "revoked ticket CHG-300 (1 file, 1 seat), version 3"));
  CHECK_FALSE(fs::exists(c.tree + "/" + usb_file));
  CHECK_FALSE(c.bundle_files("cc-0101").count(usb_file));
  CHECK(c.bundle_files("cc-0201").count(net_file));
  auto revoked = c.events("fleet.grant_revoked");
  REQUIRE(revoked.size() == 1);
  CHECK(seats_of(revoked[0]) == std::vector<std::string>{"cc-0101"});
  CHECK(revoked[0]["details"]["grants"][0] == entry);
  CHECK(c.act({"revoke", "--ticket", "CHG-300"}).exit_code == 1);
  c.verify_clean();
}

TEST_CASE("expired grant files are pruned before a central action publishes, and recorded",
          "[fleet][central]") {
  const std::string kind = GENERATE(from_range(store_kinds()));
  INFO("store " << kind);
  Central c(kind);
  // A grant written earlier by `grant usb` whose time has passed: `fleet check` refuses it.
  const std::string old = "seats/cc-0102/85-grant-usb-CHG-400.json";
  write_file(c.tree + "/" + old, R"({"usb": {"exceptions": [{"vid": "0951", "pid": "1666",
    "until": "2026-01-01T00:00:00Z", "ticket": "CHG-400"}]}})");
  // Same ticket file with one live and one expired entry: only the expired one goes.
  const std::string mixed = "seats/cc-0201/85-grant-usb-CHG-401.json";
  write_file(c.tree + "/" + mixed, R"({"usb": {"exceptions": [
    {"vid": "0951", "pid": "1666", "until": "2026-01-01T00:00:00Z", "ticket": "CHG-401"},
    {"vid": "0951", "pid": "1667", "until": "2099-01-01T00:00:00Z", "ticket": "CHG-401"}]}})");
  CHECK(run_cli({"fleet", "check", "--tree", c.tree}).exit_code == 1);

  CliResult r = c.act({"net", "close", "--seat", "cc-0101", "--ticket", "CHG-402"});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "pruned expired grant " + old + " (file removed)"));
  CHECK_FALSE(fs::exists(c.tree + "/" + old));
  json left = json::parse(read_file(c.tree + "/" + mixed))["usb"]["exceptions"];
  REQUIRE(left.size() == 1);
  CHECK(left[0]["pid"] == "1667");
  CHECK(run_cli({"fleet", "check", "--tree", c.tree}).exit_code == 0);

  auto expired = c.events("fleet.grant_expired");
  REQUIRE(expired.size() == 2);
  std::map<std::string, json> by_ticket;
  for (const auto& e : expired) by_ticket[e["details"]["ticket"]] = e;
  CHECK(seats_of(by_ticket["CHG-400"]) == std::vector<std::string>{"cc-0102"});
  CHECK(by_ticket["CHG-400"]["details"]["until"] == "2026-01-01T00:00:00Z");
  CHECK(by_ticket["CHG-400"]["details"]["version"] == 1);
  CHECK(seats_of(by_ticket["CHG-401"]) == std::vector<std::string>{"cc-0201"});
  CHECK(c.events("fleet.net_closed", "cc-0101").size() == 1);
  c.verify_clean();
}

TEST_CASE(
    "a plain fleet publish prunes expired grant files too, records them, and ships the seats "
    "bundles without them",
    "[fleet][central][publish]") {
  const std::string kind = GENERATE(from_range(store_kinds()));
  INFO("store " << kind);
  Central c(kind);
  REQUIRE(c.act({"grant", "usb", "--seat", "cc-0102", "--vid", "0951", "--pid", "1666", "--until",
                 "2h", "--ticket", "CHG-500"})
              .exit_code == 0);
  // Time passes: the grant's `until` is behind us (as if written two hours ago).
  const std::string old = "seats/cc-0102/85-grant-usb-CHG-500.json";
  json doc = json::parse(read_file(c.tree + "/" + old));
  doc["usb"]["exceptions"][0]["until"] = "2026-01-01T00:00:00Z";
  write_file(c.tree + "/" + old, doc.dump(2));
  const std::string mixed = "groups/floor-2/85-grant-usb-CHG-501.json";
  write_file(c.tree + "/" + mixed, R"({"usb": {"exceptions": [
    {"vid": "0951", "pid": "1666", "until": "2026-01-01T00:00:00Z", "ticket": "CHG-501"},
    {"vid": "0951", "pid": "1667", "until": "2099-01-01T00:00:00Z", "ticket": "CHG-501"}]}})");

  // IT publishes an ordinary edit of the tree: no central action runs.
  write_file(c.tree + "/all/20-usb.json", R"({"usb": {"mode": "enforce"}})");
  CliResult r = c.act({"fleet", "publish"});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "pruned expired grant " + old + " (file removed)"));
  CHECK(has(r.out, "pruned expired grant " + mixed + "\n"));
  CHECK(has(r.out, "published version 2 for 4 seats"));
  CHECK_FALSE(fs::exists(c.tree + "/" + old));
  CHECK_FALSE(c.bundle_files("cc-0102").count(old));
  CHECK(c.bundle_files("cc-0102").count("all/20-usb.json"));
  json live = c.bundle_files("cc-0202").at(mixed)["usb"]["exceptions"];
  REQUIRE(live.size() == 1);
  CHECK(live[0]["pid"] == "1667");

  auto expired = c.events("fleet.grant_expired");
  REQUIRE(expired.size() == 2);
  std::map<std::string, json> by_ticket;
  for (const auto& e : expired) by_ticket[e["details"]["ticket"]] = e;
  CHECK(seats_of(by_ticket["CHG-500"]) == std::vector<std::string>{"cc-0102"});
  CHECK(by_ticket["CHG-500"]["details"]["actor"] == "alice");
  CHECK(by_ticket["CHG-500"]["details"]["version"] == 2);
  CHECK(seats_of(by_ticket["CHG-501"]) == std::vector<std::string>{"cc-0201", "cc-0202"});
  CHECK(c.events("fleet.grant_expired", "cc-0102").size() == 1);
  CHECK(c.events("fleet.published").size() == 2);  // the grant's and this one

  // With nothing to prune, publish needs no store (the form documented before): nothing recorded.
  CliResult plain =
      run_all({"fleet", "publish", "--tree", c.tree, "--key", c.key, "--bundles", c.bundles});
  INFO(plain.out);
  CHECK(plain.exit_code == 0);
  CHECK(has(plain.out, "published version 3 for 4 seats"));
  CHECK(c.events("fleet.published").size() == 2);
  c.verify_clean();
}
