// `seatlock-collector fleet` against a real collector process: check and publish refuse a bad
// tree, publish signs one bundle per seat with ever-increasing versions, and a running
// `serve --bundles` answers a held GET /v1/policy within seconds of a publish.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../support/process.hpp"
#include "core/fleet/verify.hpp"
#include "fleet/bundle_dir.hpp"
#include "harness.hpp"
#include "raw_client.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;
using seatlock::test::read_file;
using seatlock::test::write_file;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// A tree for seats cc-0101 (site only) and cc-0201 (site + floor-2 + its own file).
struct Fleet {
  TempDir dir;
  std::string tree = dir / "tree", key = dir / "fleet.key", bundles = dir / "bundles";
  Fleet() {
    write_file(tree + "/groups.json", R"({"seats": ["cc-0101"],
  "groups": [{"name": "floor-2", "match": ["cc-02*"]}]})");
    write_file(tree + "/all/10-base.json",
               R"({"network": {"mode": "enforce", "dns": ["10.0.0.53"]}})");
    write_file(tree + "/groups/floor-2/20-floor.json", R"({"usb": {"mode": "audit"}})");
    write_file(tree + "/seats/cc-0201/90-seat.json", R"({"network": {"ntp": ["10.0.0.123"]}})");
    REQUIRE(run_cli({"fleet", "keygen", "--out", key}).exit_code == 0);
  }
  std::string pub() const {
    std::string t = read_file(key + ".pub");
    return t.substr(0, t.find('\n'));
  }
  // The document a seat would be served now.
  std::string published(const std::string& seat) const {
    auto all = collector::fleet_cli::BundleDir(bundles).read_all();
    return all.count(seat) ? all[seat].document : "";
  }
  CliResult publish() {
    return run_cli({"fleet", "publish", "--tree", tree, "--key", key, "--bundles", bundles});
  }
};

// Verifies a served bundle as seat `seat` would (pinned key, seat id, highest seen).
fleet::BundleVerdict seat_check(const Fleet& f, const std::string& body, const std::string& seat,
                                std::uint64_t highest) {
  fleet::SeatTrust t{{f.pub()},
                     seat,
                     highest,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count()};
  return fleet::verify_bundle(body, t);
}

std::string poll(std::uint64_t after, int wait_s) {
  return "GET /v1/policy?after=" + std::to_string(after) + "&wait=" + std::to_string(wait_s) +
         " HTTP/1.1\r\nHost: collector\r\n\r\n";
}

}  // namespace

TEST_CASE("fleet check and publish refuse a tree with an error, naming file, place and seats",
          "[fleet][collector]") {
  Fleet f;
  write_file(f.tree + "/groups/floor-2/20-floor.json", "{\"usb\": {\n  \"mode\": \"off\"}}");
  CliResult check = run_cli({"fleet", "check", "--tree", f.tree});
  CHECK(check.exit_code == 1);
  CHECK(check.out.find("error: groups/floor-2/20-floor.json:2:11: /usb/mode: expected \"enforce\" "
                       "or \"audit\", got \"off\" (seat cc-0201)") != std::string::npos);
  CliResult pub = f.publish();
  CHECK(pub.exit_code == 1);
  CHECK(pub.out.find("nothing published") != std::string::npos);
  CHECK_FALSE(fs::exists(f.bundles + "/current"));
}

TEST_CASE(
    "fleet publish signs one bundle per seat with versions that only increase and diff shows the "
    "changes",
    "[fleet][collector]") {
  Fleet f;
  REQUIRE(run_cli({"fleet", "check", "--tree", f.tree}).out ==
          "fleet tree OK: 2 seats, 1 groups\n");
  CliResult first = f.publish();
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("published version 1 for 2 seats") != std::string::npos);
  const std::string v1_document = f.published("cc-0201");
  auto v1 = seat_check(f, v1_document, "cc-0201", 0);
  REQUIRE(v1.ok());
  CHECK(v1.bundle->version == 1);
  std::vector<std::string> names;
  for (const auto& file : v1.bundle->files) names.push_back(file.name);
  CHECK(names == std::vector<std::string>{"all/10-base.json", "groups/floor-2/20-floor.json",
                                          "seats/cc-0201/90-seat.json"});

  write_file(f.tree + "/groups/floor-2/20-floor.json", R"({"usb": {"mode": "enforce"}})");
  CliResult diff = run_cli({"fleet", "diff", "--tree", f.tree, "--against", f.bundles});
  REQUIRE(diff.exit_code == 0);
  CHECK(diff.out ==
        "seat cc-0201: changed\n  ~ /usb/mode: \"audit\" -> \"enforce\"\n1 of 2 seats change\n");

  // A crash after the version was reserved must not let the next publish reuse it.
  write_file(f.bundles + "/version", "7\n");
  REQUIRE(f.publish().exit_code == 0);
  auto v8 = seat_check(f, f.published("cc-0101"), "cc-0101", 1);
  REQUIRE(v8.ok());
  CHECK(v8.bundle->version == 8);
  CHECK(read_file(f.bundles + "/current") == "8\n");
  // A seat that applied 8 refuses the captured version 1 and a second delivery of 8.
  CHECK(seat_check(f, v1_document, "cc-0201", 8).refusal == fleet::Refusal::rollback);
  CHECK(seat_check(f, f.published("cc-0201"), "cc-0201", 8).refusal == fleet::Refusal::replay);
  // A seat that leaves the tree gets no bundle from the next publish on.
  fs::remove_all(f.tree + "/seats/cc-0201");
  REQUIRE(f.publish().exit_code == 0);
  CHECK(f.published("cc-0201").empty());
  CHECK_FALSE(f.published("cc-0101").empty());
}

TEST_CASE("a running collector answers a held policy poll within seconds of fleet publish",
          "[fleet][collector]") {
  Fleet f;
  REQUIRE(f.publish().exit_code == 0);  // version 1, before the collector starts
  Pki pki(f.dir);
  CollectorProcess c(f.dir / "collector.db", pki, {"--bundles", f.bundles});
  auto cert = pki.seat("cc-0201");

  SECTION("a seat behind gets the current bundle at once; one up to date waits, then 204") {
    TlsConn t(c.port(), pki.ca, cert.cert, cert.key);
    REQUIRE(t.ok());
    REQUIRE(t.write(poll(0, 30)));
    RawResponse r = t.read_response(3000);
    REQUIRE(r.status == 200);
    CHECK(r.head.find("X-Seatlock-Bundle-Version: 1") != std::string::npos);
    CHECK(seat_check(f, r.body, "cc-0201", 0).ok());

    auto start = Clock::now();
    REQUIRE(t.write(poll(1, 2)));
    CHECK(t.read_response(1500).status == 0);  // held
    CHECK(t.read_response(3000).status == 204);
    CHECK(std::chrono::duration<double>(Clock::now() - start).count() >= 1.9);
  }
  SECTION("publish wakes the held poll of every seat whose bundle changed") {
    TlsConn t(c.port(), pki.ca, cert.cert, cert.key);
    REQUIRE(t.ok());
    REQUIRE(t.write(poll(1, 60)));
    CHECK(t.read_response(1000).status == 0);  // held: nothing newer than 1 yet
    write_file(f.tree + "/all/10-base.json", R"({"network": {"mode": "audit"}})");
    REQUIRE(f.publish().exit_code == 0);
    auto published = Clock::now();
    RawResponse r = t.read_response(5000);
    double seconds = std::chrono::duration<double>(Clock::now() - published).count();
    REQUIRE(r.status == 200);
    CHECK(seconds < 3);
    auto v = seat_check(f, r.body, "cc-0201", 1);
    REQUIRE(v.ok());
    CHECK(v.bundle->version == 2);
    CHECK(v.bundle->files[0].text == R"({"network": {"mode": "audit"}})");
    // The seat's own bundle only: another seat's certificate gets its own.
    auto other = pki.seat("cc-0101");
    TlsConn o(c.port(), pki.ca, other.cert, other.key);
    REQUIRE(o.write(poll(0, 5)));
    RawResponse ro = o.read_response(3000);
    REQUIRE(ro.status == 200);
    CHECK(seat_check(f, ro.body, "cc-0101", 0).ok());
  }
  SECTION("a seat with no bundle in the fleet gets 204") {
    auto stranger = pki.seat("zz-0001");
    TlsConn t(c.port(), pki.ca, stranger.cert, stranger.key);
    REQUIRE(t.write(poll(0, 1)));
    CHECK(t.read_response(3000).status == 204);
  }
  CHECK(c.alive());
}

TEST_CASE("fleet keygen never overwrites a key and publish needs a real one",
          "[fleet][collector]") {
  Fleet f;
  CliResult again = run_cli({"fleet", "keygen", "--out", f.key});
  CHECK(again.exit_code == 1);
  CHECK(f.pub().size() == 44);  // unchanged: base64 of 32 bytes
  write_file(f.dir / "not-a-key", "hello\n");
  CliResult pub = run_cli(
      {"fleet", "publish", "--tree", f.tree, "--key", f.dir / "not-a-key", "--bundles", f.bundles});
  CHECK(pub.exit_code == 1);
  CHECK_FALSE(fs::exists(f.bundles + "/current"));
  CHECK(run_cli({"fleet", "unpublish"}).exit_code == 2);
}
