// The collector's own signed chain (collector/src/audit/collector_log.hpp) on both stores:
// collector events about a seat are listed by `query --seat` beside the seat's own events,
// exported with a manifest, re-checked by `verify` (alteration, deletion, another key), and
// concurrent appenders (threads and processes) never fork the chain.
#include "audit/collector_log.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/util/digest.hpp"
#include "core/util/time.hpp"
#include "harness.hpp"
#include "seat_sim.hpp"
#include "store_fixture.hpp"
#include "store_open.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using namespace seatlock::collector;
using nlohmann::json;

namespace {

const UnixMillis kT0 = *parse_rfc3339("2026-11-20T08:00:00Z");

std::vector<json> json_lines(const std::string& s) {
  std::vector<json> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

audit::CollectorEventInput verdict(const std::string& seat, const std::string& result) {
  audit::CollectorEventInput in;
  in.kind = "firmware.attested";
  in.severity = result == "verified" ? "info" : "high";
  in.outcome = result;
  in.seats = {seat};
  in.details = {
      {"result", result},
      {"differences", result == "drift" ? json::array({"Secure Boot: on -> off"}) : json::array()},
      {"reported_by_seat", {{"note", "BIOS admin password: reported by the seat"}}}};
  return in;
}

// A store holding seat cc-a's 5 events (posted through `serve`), and a collector identity.
struct World {
  TempDir dir;
  Pki pki{dir};
  TestStore store;
  std::string key = dir / "collector.key";
  explicit World(const std::string& kind) : store(kind, dir) {
    SeatSim a("cc-a");
    StoreCollector c(store.spec, pki);
    auto ca = pki.seat("cc-a");
    REQUIRE(post_events(c.url(), pki.ca, {ca.cert, ca.key, ""},
                        a.post(a.make(5, "usb.blocked", "high", kT0, 60'000)))
                .status == 200);
    REQUIRE(c.stop() == 0);
  }
  audit::CollectorIdentity identity() const {
    return audit::load_or_create_identity(key, "test-1");
  }
  CliResult cli(std::vector<std::string> args) const {
    args.insert(args.begin() + 1, {"--store", store.spec});
    return run_cli(args);
  }
  // Records: drift(cc-a), verified(cc-b), verified(cc-a).
  void record_three() const {
    auto es = open_store(store.spec, false);
    audit::CollectorLog log(*es, identity());
    CHECK(log.record(verdict("cc-a", "drift")).seq == 1);
    CHECK(log.record(verdict("cc-b", "verified")).seq == 2);
    CHECK(log.record(verdict("cc-a", "verified")).seq == 3);
  }
};

}  // namespace

TEST_CASE("collector verdicts are listed, exported and verified beside the seat's events",
          "[collector][store][audit]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    World w(kind);
    w.record_three();

    // The seat's own events first (older), then the collector's verdicts about it.
    auto r = w.cli({"query", "--json", "--seat", "cc-a"});
    REQUIRE(r.exit_code == 0);
    auto got = json_lines(r.out);
    REQUIRE(got.size() == 7);
    CHECK(got[0]["seat"]["id"] == "cc-a");
    CHECK(got[4]["kind"] == "usb.blocked");
    CHECK(got[5]["seat"]["id"] == "collector:test-1");
    CHECK(got[5]["kind"] == "firmware.attested");
    CHECK(got[5]["details"]["result"] == "drift");
    CHECK(got[5]["details"]["seats"] == json::array({"cc-a"}));
    CHECK(got[6]["details"]["result"] == "verified");
    CHECK(got[6]["prev"] != got[5]["prev"]);
    // The limit counts the merged stream.
    CHECK(json_lines(w.cli({"query", "--json", "--seat", "cc-a", "--limit", "6"}).out).size() == 6);
    // A seat with no events of its own still has its verdicts.
    auto b = json_lines(w.cli({"query", "--json", "--seat", "cc-b"}).out);
    REQUIRE(b.size() == 1);
    CHECK(b[0]["details"]["seats"] == json::array({"cc-b"}));
    CHECK(json_lines(w.cli({"query", "--json", "--kind", "firmware.attested"}).out).size() == 3);
    CHECK(
        json_lines(w.cli({"query", "--json", "--seat", "cc-a", "--kind", "firmware.attested"}).out)
            .size() == 2);
    std::string table = w.cli({"query", "--seat", "cc-a"}).out;
    CHECK(table.find("collector:test-1") != std::string::npos);
    CHECK(table.find("(7 events)") != std::string::npos);

    auto v = w.cli({"verify", "--collector-pubkey", w.key + ".pub"});
    INFO(v.out);
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("seat collector:test-1: ok, 3 events (seq 1..3), 3 signed chain heads "
                     "verified") != std::string::npos);
    CHECK(w.cli({"seats"}).out.find("ok (collector chain)") != std::string::npos);

    // Export: the collector's chain is a file of its own, covered by the manifest.
    std::string out = w.dir / "evidence";
    auto e = w.cli({"export", "--since", "2026-11-01", "--until", "2099-01-01", "--format",
                    "ndjson", "--out", out});
    INFO(e.out);
    REQUIRE(e.exit_code == 0);
    CHECK(e.out.find("exported 8 events from 2 seats") != std::string::npos);
    json m = json::parse(slurp(out + "/manifest.json"));
    bool found = false;
    for (const auto& f : m["files"]) {
      std::string content = slurp(out + "/" + f["file"].get<std::string>());
      CHECK(sha256_hex(content) == f["sha256"]);
      if (f["seat"] != "collector:test-1") continue;
      found = true;
      CHECK(f["events"] == 3);
      CHECK(f["last_seq"] == 3);
      CHECK(json_lines(content)[0]["details"]["result"] == "drift");
    }
    CHECK(found);
  }
}

TEST_CASE("verify names the collector chain when one of its events is altered or deleted",
          "[collector][store][audit]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    {
      World w(kind);
      w.record_three();
      // A drift verdict rewritten into a clean one.
      w.store.edit_line("collector:test-1", 1, "\"result\":\"drift\"", "\"result\":\"verified\"");
      auto v = w.cli({"verify"});
      INFO(v.out);
      CHECK(v.exit_code == 1);
      CHECK(v.out.find("seat collector:test-1: seq 1 altered") != std::string::npos);
      CHECK(v.out.find("seat cc-a: ok") != std::string::npos);
    }
    {
      World w(kind);
      w.record_three();
      w.store.delete_event("collector:test-1", 2);
      auto v = w.cli({"verify"});
      INFO(v.out);
      CHECK(v.exit_code == 1);
      CHECK(v.out.find("seat collector:test-1: seq 2 missing") != std::string::npos);
      // The newest one dropped too: the signed head and the chain state still name it.
      w.store.delete_event("collector:test-1", 3);
      v = w.cli({"verify", "--seat", "collector:test-1"});
      INFO(v.out);
      CHECK(v.exit_code == 1);
      CHECK(v.out.find("seq 2..3 missing") != std::string::npos);
    }
  }
}

TEST_CASE("verify --collector-pubkey refuses a collector chain signed with another key",
          "[collector][audit]") {
  World w("sqlite");
  w.record_three();
  TempDir other;
  auto impostor = audit::load_or_create_identity(other / "k", "x");
  std::ofstream(other / "k.pub") << base64_encode(impostor.raw_public) << "\n";
  auto v = w.cli({"verify", "--collector-pubkey", other / "k.pub"});
  INFO(v.out);
  CHECK(v.exit_code == 1);
  CHECK(v.out.find("collector chain is pinned to a key other than --collector-pubkey") !=
        std::string::npos);
  // And the log refuses to append to its chain with a key the chain is not pinned to.
  auto es = open_store(w.store.spec, false);
  auto swapped = impostor;
  swapped.instance = "test-1";
  audit::CollectorLog log(*es, swapped);
  CHECK_THROWS_WITH(log.record(verdict("cc-a", "verified")),
                    Catch::Contains("pinned to another collector key"));
}

// The other process of the test below (hidden: runs only when that test starts it).
constexpr const char* kAppenderCase = "collector log appender process";
TEST_CASE(kAppenderCase, "[.][audit-child]") {
  const char* spec = std::getenv("CHAIN17_APPEND_SPEC");
  if (!spec) return;
  auto es = open_store(spec, false);
  audit::CollectorLog log(
      *es, audit::load_or_create_identity(std::getenv("CHAIN17_APPEND_KEY"), "test-1"));
  int n = std::atoi(std::getenv("CHAIN17_APPEND_COUNT"));
  for (int i = 0; i < n; ++i)
    log.record(verdict(std::string("cc-") + std::getenv("CHAIN17_APPEND_WHO"), "verified"));
}

TEST_CASE("concurrent appenders (threads and processes) never fork the collector chain",
          "[collector][store][audit]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    World w(kind);
    constexpr int kEach = 12;
    auto append = [&](const std::string& who) {
      auto es = open_store(w.store.spec, false);
      audit::CollectorLog log(*es, w.identity());
      for (int i = 0; i < kEach; ++i) log.record(verdict("cc-" + who, "verified"));
    };
    // Two other processes (this test binary re-executed, so nothing such as a pooled store
    // connection is inherited) and two threads here, all at once.
    std::vector<pid_t> kids;
    for (const char* who : {"p1", "p2"}) {
      pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        setenv("CHAIN17_APPEND_SPEC", w.store.spec.c_str(), 1);
        setenv("CHAIN17_APPEND_KEY", w.key.c_str(), 1);
        setenv("CHAIN17_APPEND_WHO", who, 1);
        setenv("CHAIN17_APPEND_COUNT", std::to_string(kEach).c_str(), 1);
        execl("/proc/self/exe", "collector_tests", kAppenderCase, static_cast<char*>(nullptr));
        _exit(127);
      }
      kids.push_back(pid);
    }
    std::thread t1([&] { append("t1"); }), t2([&] { append("t2"); });
    t1.join();
    t2.join();
    for (pid_t pid : kids) {
      int status = 0;
      REQUIRE(waitpid(pid, &status, 0) == pid);
      CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    auto v = w.cli({"verify", "--seat", "collector:test-1"});
    INFO(v.out);
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("ok, 48 events (seq 1..48)") != std::string::npos);
    CHECK(json_lines(w.cli({"query", "--json", "--kind", "firmware.attested"}).out).size() == 48);
  }
}

TEST_CASE("no seat can authenticate as a collector chain", "[collector][audit]") {
  TempDir dir;
  Pki pki(dir);
  CollectorProcess c(dir / "c.db", pki);
  SeatSim fake("collector:test-1");
  auto cert = pki.seat("collector:test-1");
  auto r = post_events(c.url(), pki.ca, {cert.cert, cert.key, ""}, fake.post(fake.make(1)));
  CHECK(r.status == 403);
  CHECK(r.body.find("is a collector chain, not a seat") != std::string::npos);
}

TEST_CASE("serve creates its collector key beside the database, private, with its .pub",
          "[collector][audit]") {
  TempDir dir;
  Pki pki(dir);
  CollectorProcess c(dir / "c.db", pki, {"--instance", "hub-1"});
  struct stat st {};
  REQUIRE(stat((dir / "c.db.collector.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(stat((dir / "c.db.collector.key.pub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  // The same key is what a CLI command on the host loads (and the .pub is its public half).
  auto id = audit::load_or_create_identity(dir / "c.db.collector.key", "hub-1");
  CHECK(slurp(dir / "c.db.collector.key.pub") == base64_encode(id.raw_public) + "\n");
  CHECK(id.chain_id() == "collector:hub-1");
}
