// The whole attestation path as IT deploys it: a real seatlockd (firmware + delivery
// components, seat id from policy.d/90-seat.json, a fake sysfs tree holding the UEFI event log)
// using a private swtpm through its TCTI string, and a real `seatlock-collector serve` that
// verifies the quotes. Also: a TPM that is not there is reported as `firmware.unattested`.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "firmware/fake_sysfs.hpp"
#include "harness.hpp"
#include "support/process.hpp"
#include "tpm/collector_tpm_support.hpp"

using nlohmann::json;
using seatlock::testing::CollectorProcess;
using seatlock::testing::Pki;
using seatlock::testing::run_cli;
namespace t = seatlock::test;

namespace {

struct AttestingSeat {
  seatlock::testing::TempDir dir;
  Pki pki{dir};
  CollectorProcess collector{dir / "c.db", pki};
  t::FakeSysfs sysfs;
  std::string seat_id = "seat-tpm-1";
  std::string policy_dir = dir / "policy.d", state_dir = dir / "state",
              socket = dir / "control.sock";
  std::unique_ptr<t::Child> child;

  explicit AttestingSeat(const std::string& tcti) {
    std::filesystem::create_directories(policy_dir);
    auto cert = pki.seat(seat_id);
    // The local checks are not the subject here: nothing required, no baseline.
    t::write_file(policy_dir + "/00-base.json",
                  json{{"firmware",
                        {{"mode", "audit"},
                         {"require", json::array()},
                         {"attestation", {{"tpm", tcti}, {"interval", "1h"}}}}}}
                      .dump(2));
    t::write_file(policy_dir + "/50-report.json", json{{"report",
                                                        {{"collector", collector.url("")},
                                                         {"ca", pki.ca},
                                                         {"cert", cert.cert},
                                                         {"key", cert.key},
                                                         {"heartbeat", "1h"}}}}
                                                      .dump(2));
    t::write_file(policy_dir + "/90-seat.json", json{{"report", {{"seat_id", seat_id}}}}.dump(2));
  }
  ~AttestingSeat() { child.reset(); }

  void start() {
    std::filesystem::remove(socket);
    child = std::make_unique<t::Child>(
        std::vector<std::string>{t::binary_path("agent/daemon/seatlockd"), "--policy-dir",
                                 policy_dir, "--state-dir", state_dir, "--control-socket", socket,
                                 "--components", "firmware,delivery", "--sysfs", sysfs.str()},
        dir / "seatlockd.log");
    REQUIRE(t::wait_until([&] { return std::filesystem::exists(socket); }, 20'000));
  }
  void stop() { child.reset(); }

  t::RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {t::binary_path("agent/cli/seatlockctl"), "--socket", socket,
                               "--state-dir", state_dir});
    return t::run_command(args);
  }
  // The collector's verdicts for this seat (attest show --json).
  json verdicts() {
    auto r = run_cli({"attest", "show", "--db", dir / "c.db", "--seat", seat_id, "--json"});
    json all = json::array();
    std::istringstream lines(r.out);  // NDJSON, one verdict a line
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] == '{') all.push_back(json::parse(line));
    return all;
  }
  // Events of `kind` the collector stored for this seat (delivered by seatlockd's sender).
  std::vector<json> collected(const std::string& kind) {
    auto r = run_cli({"query", "--db", dir / "c.db", "--seat", seat_id, "--kind", kind, "--json"});
    std::vector<json> out;
    std::istringstream lines(r.out);  // NDJSON, the events as the seat sent them
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
    std::sort(out.begin(), out.end(),
              [](const json& a, const json& b) { return a.value("seq", 0) < b.value("seq", 0); });
    return out;
  }
  // Events of `kind` in the seat's own spool (delivered or not).
  std::size_t spooled(const std::string& kind) {
    auto r = ctl({"--json", "events", "--kind", kind});
    std::size_t n = 0;
    for (std::size_t at = r.out.find("\"kind\":\"" + kind); at != std::string::npos;
         at = r.out.find("\"kind\":\"" + kind, at + 1))
      ++n;
    return n;
  }
  std::string log() { return t::read_file(dir / "seatlockd.log"); }
};

std::size_t count_results(const json& show, const std::string& result) {
  std::size_t n = 0;
  std::string text = show.dump();
  for (auto at = text.find("\"result\":\"" + result + "\""); at != std::string::npos;
       at = text.find("\"result\":\"" + result + "\"", at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "seatlockd enrolls its TPM with the collector, quotes at start and on demand, and the "
    "collector verifies it",
    "[tpm][daemon][e2e]") {
  t::Swtpm tpm;
  auto boot = t::col::EventLogBuilder::typical();
  boot.extend_into(tpm);  // the "firmware" measured this boot into the TPM...
  AttestingSeat seat(tpm.tcti());
  // ...and the kernel exposes its log in securityfs (under the sysfs root).
  t::write_text(seat.sysfs.root() / "kernel/security/tpm0/binary_bios_measurements", boot.bytes());
  seat.start();

  // At start: enrolled (credential activation) and quoted; no boot baseline yet -> drift.
  REQUIRE(t::wait_until([&] { return count_results(seat.verdicts(), "drift") >= 1; }, 30'000));
  INFO(seat.log());
  std::string enrollment =
      json::parse(t::read_file(seat.state_dir + "/tpm-enrollment.json"))["enrollment"];
  auto status = json::parse(seat.ctl({"--json", "status"}).out);
  CHECK(status["components"]["attestation"]["state"] == "attested");
  CHECK(status["components"]["attestation"]["result"] == "drift");

  // IT approves what the TPM proved as the seat's boot baseline; on demand, the seat attests
  // again and is now verified.
  auto base = run_cli({"attest", "baseline", "--db", seat.dir / "c.db", "--seat", seat.seat_id,
                       "--ticket", "IMG-17"});
  INFO(base.out);
  REQUIRE(base.exit_code == 0);
  // (The local checks fail here, no signed baseline: the exit code is theirs too. The TPM part
  // is what this test is about.)
  auto now = seat.ctl({"firmware", "attest"});
  INFO(now.out);
  CHECK(now.out.find("tpm attestation: attested, collector verdict verified") != std::string::npos);
  auto again = seat.ctl({"--json", "firmware", "attest"});
  INFO(again.out);
  CHECK(json::parse(again.out)["tpm"]["result"] == "verified");
  auto show = run_cli({"attest", "show", "--db", seat.dir / "c.db", "--seat", seat.seat_id});
  INFO(show.out);
  CHECK(show.out.find("firmware.attested  verified") != std::string::npos);
  auto fw = seat.ctl({"firmware", "status"});
  CHECK(fw.out.find("tpm attestation: attested, collector verdict verified") != std::string::npos);

  // The verdicts are also in the seat's own evidence chain, delivered to the collector.
  REQUIRE(t::wait_until([&] { return seat.collected("firmware.attestation_verdict").size() >= 3; },
                        20'000));
  auto local = seat.collected("firmware.attestation_verdict");
  CHECK(local.back()["details"]["result"] == "verified");
  CHECK(local.back()["severity"] == "info");
  CHECK(local.front()["details"]["result"] == "drift");
  CHECK(local.front()["severity"] == "high");

  // A restart keeps the pinned AK: no new enrollment, and the quote still verifies.
  seat.stop();
  seat.start();
  bool verified =
      t::wait_until([&] { return count_results(seat.verdicts(), "verified") >= 3; }, 30'000);
  INFO(seat.log());
  INFO(seat.verdicts().dump(1));
  REQUIRE(verified);
  CHECK(json::parse(t::read_file(seat.state_dir + "/tpm-enrollment.json"))["enrollment"] ==
        enrollment);

  // The collector forgets the AK (a ticketed unpin): the next quote is refused with "no pinned
  // AK", and seatlockd enrolls again by itself and is verified in the same round.
  auto unpin = run_cli({"attest", "unpin", "--db", seat.dir / "c.db", "--seat", seat.seat_id,
                        "--ticket", "TPM-REPLACED-1"});
  INFO(unpin.out);
  REQUIRE(unpin.exit_code == 0);
  auto after = seat.ctl({"--json", "firmware", "attest"});
  INFO(after.out);
  CHECK(json::parse(after.out)["tpm"]["result"] == "verified");
  CHECK(json::parse(t::read_file(seat.state_dir + "/tpm-enrollment.json"))["enrollment"] !=
        enrollment);
  CHECK(seat.spooled("firmware.unattested") == 0);

  // The AK stays in the TPM but the enrollment record is gone (an enrollment that failed after
  // the AK was made unlinks it first): the seat enrolls again instead of failing every round.
  seat.stop();
  std::filesystem::remove(seat.state_dir + "/tpm-enrollment.json");
  seat.start();
  auto after_loss = seat.ctl({"--json", "firmware", "attest"});
  INFO(after_loss.out);
  CHECK(json::parse(after_loss.out)["tpm"]["result"] == "verified");
  CHECK(std::filesystem::exists(seat.state_dir + "/tpm-enrollment.json"));
}

TEST_CASE("a seat whose TPM cannot be reached reports firmware.unattested, once per reason",
          "[tpm][daemon][e2e]") {
  // A TCTI pointing at a port where no TPM listens.
  int port = 0;
  {
    t::Swtpm gone;
    port = gone.port();
  }  // stopped: nothing listens there any more
  std::string tcti = "swtpm:host=127.0.0.1,port=" + std::to_string(port);
  AttestingSeat seat(tcti);
  seat.start();

  REQUIRE(t::wait_until([&] { return !seat.collected("firmware.unattested").empty(); }, 30'000));
  INFO(seat.log());
  json e = seat.collected("firmware.unattested").at(0);
  CHECK(e["severity"] == "medium");
  CHECK(e["outcome"] == "detected");
  CHECK(e["details"]["attested"] == false);
  CHECK(e["details"]["tcti"] == tcti);
  CHECK_FALSE(e["details"]["code"].get<std::string>().empty());
  CHECK_FALSE(e["details"]["reason"].get<std::string>().empty());

  auto status = json::parse(seat.ctl({"--json", "status"}).out);
  CHECK(status["components"]["attestation"]["state"] == "unattested");
  CHECK(status["components"]["attestation"]["unattested"]["code"] == e["details"]["code"]);
  auto text = seat.ctl({"status"});
  CHECK(text.out.find("  attestation unattested  summary=" +
                      e["details"]["code"].get<std::string>() + ": ") != std::string::npos);

  // Asked again, the same reason: the CLI says so and fails, but no second event.
  auto now = seat.ctl({"firmware", "attest"});
  INFO(now.out);
  CHECK(now.exit_code == 1);
  CHECK(now.out.find("tpm attestation: unattested (" + e["details"]["code"].get<std::string>() +
                     ")") != std::string::npos);
  // (The round is recorded before the CLI sees it done, so the spool is complete here.)
  CHECK(seat.spooled("firmware.unattested") == 1);
  CHECK(run_cli({"attest", "show", "--db", seat.dir / "c.db", "--seat", seat.seat_id})
            .out.find("verified") == std::string::npos);
}
