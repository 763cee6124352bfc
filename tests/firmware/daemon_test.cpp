// The real seatlockd with only the firmware component, on a fake sysfs tree: the attestation
// event it records, `seatlockctl firmware status` through the control socket, periodic
// re-attestation, and suppression of identical results.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "firmware/fake_sysfs.hpp"
#include "os/control/control_server.hpp"
#include "support/events.hpp"
#include "support/process.hpp"

using nlohmann::json;
namespace t = seatlock::test;

namespace {

struct FirmwareDaemon {
  t::TempDir dir;
  t::FakeSysfs sysfs;
  std::string policy_dir = dir.str() + "/policy.d";
  std::string state_dir = dir.str() + "/state";
  std::string socket = dir.str() + "/control.sock";
  std::string key = dir.str() + "/it-key.pem";
  std::string baseline = dir.str() + "/baseline.json";
  std::unique_ptr<t::Child> child;

  // When seatlockd last ran an attestation round ("" before the first).
  std::string attested_at() {
    json r = seatlock::control_call(socket, "firmware.status");
    return r.value("attested_at", "");
  }
  // Waits until `rounds` more attestation rounds have run (each moves attested_at on).
  bool wait_rounds(int rounds, int timeout_ms) {
    std::string seen = attested_at();
    int done = 0;
    return t::wait_until(
        [&] {
          std::string now = attested_at();
          if (now != seen) ++done, seen = now;
          return done >= rounds;
        },
        timeout_ms);
  }

  t::RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {t::binary_path("agent/cli/seatlockctl"), "--socket", socket});
    return t::run_command(args);
  }

  // Images the seat (key, signed baseline) and writes the policy.
  void image(const std::string& interval, const std::string& resend) {
    auto k = ctl({"firmware", "keygen", "--out", key});
    REQUIRE(k.exit_code == 0);
    std::string pubkey = t::pubkey_line(k.out);
    REQUIRE(!pubkey.empty());
    REQUIRE(ctl({"--sysfs", sysfs.str(), "firmware", "baseline", "--out", baseline, "--sign-key",
                 key, "--attest", "boot_order_locked=yes"})
                .exit_code == 0);
    std::filesystem::create_directories(policy_dir);
    json p = {
        {"firmware",
         {{"mode", "audit"},
          {"interval", interval},
          {"resend", resend},
          {"require", {"admin_password", "usb_boot_disabled", "boot_order_locked", "secure_boot"}},
          {"baseline", baseline},
          {"trusted_keys", {pubkey}}}}};
    t::write_file(policy_dir + "/00-seat.json", p.dump(2));
  }
  void launch() {
    child = std::make_unique<t::Child>(
        std::vector<std::string>{t::binary_path("agent/daemon/seatlockd"), "--policy-dir",
                                 policy_dir, "--state-dir", state_dir, "--control-socket", socket,
                                 "--components", "firmware", "--sysfs", sysfs.str(), "--seat-id",
                                 "fw-seat-1"},
        dir.str() + "/seatlockd.log");
    REQUIRE(t::wait_until([&] { return std::filesystem::exists(socket); }));
  }
  void start(const std::string& interval, const std::string& resend) {
    image(interval, resend);
    launch();
  }
  std::vector<json> attestations() { return t::events_of_kind(state_dir, "firmware.attestation"); }
  ~FirmwareDaemon() { child.reset(); }
};

}  // namespace

TEST_CASE(
    "seatlockd attests at start, reports violations when the firmware is reset, and stays quiet "
    "otherwise",
    "[firmware][daemon]") {
  FirmwareDaemon d;
  t::make_dell_locked(d.sysfs);
  d.start("1s", "1h");

  REQUIRE(t::wait_until([&] { return !d.attestations().empty(); }));
  json e = d.attestations().at(0);
  CHECK(e["severity"] == "info");
  CHECK(e["outcome"] == "reported");
  CHECK(e["mode"] == "audit");
  CHECK(e["seat"]["id"] == "fw-seat-1");
  CHECK(e["details"]["overall"] == "compliant");
  CHECK(e["details"]["baseline"]["status"] == "ok");
  REQUIRE(e["details"]["checks"].size() == 5);
  CHECK(e["details"]["checks"][0]["name"] == "admin_password");
  CHECK(e["details"]["checks"][0]["result"] == "pass");
  CHECK(e["details"]["checks"][0]["evidence"] ==
        "authentication/dell-wmi-sysman/Admin is_enabled = 1");
  CHECK(e["details"]["checks"][2]["source"] == "attested");

  auto st = d.ctl({"firmware", "status"});
  INFO(st.out);
  CHECK(st.exit_code == 0);
  CHECK(st.out.find(
            "\nusb_boot_disabled *    pass     firmware  dell-wmi-sysman/UsbEmu = Disabled\n") !=
        std::string::npos);
  CHECK(st.out.find("\noverall:   compliant\n") != std::string::npos);
  auto daemon_status = json::parse(d.ctl({"--json", "status"}).out);
  CHECK(daemon_status["components"]["firmware"]["state"] == "running");

  // Three more rounds with the same result: no new event (resend is 1h).
  REQUIRE(d.wait_rounds(3, 6000));
  CHECK(d.attestations().size() == 1);

  // The admin password disappears (CMOS reset): the next round reports it, severity high.
  d.sysfs.auth("dell-wmi-sysman", "Admin", "bios-admin", false);
  REQUIRE(t::wait_until([&] { return d.attestations().size() >= 2; }, 5000));
  json v = d.attestations().at(1);
  CHECK(v["severity"] == "high");
  CHECK(v["outcome"] == "detected");
  CHECK(v["details"]["overall"] == "violation");
  CHECK(v["details"]["checks"][0]["result"] == "fail");
  CHECK(
      v["details"]["violations"][0] ==
      "required check admin_password failed: authentication/dell-wmi-sysman/Admin is_enabled = 0");

  auto vst = d.ctl({"firmware", "status"});
  INFO(vst.out);
  CHECK(vst.exit_code == 1);
  CHECK(vst.out.find("\nadmin_password *       fail     firmware  "
                     "authentication/dell-wmi-sysman/Admin is_enabled = 0\n") != std::string::npos);
  CHECK(vst.out.find("\noverall:   violation\n") != std::string::npos);
}

TEST_CASE("seatlockd re-sends an unchanged result once firmware.resend has passed",
          "[firmware][daemon]") {
  FirmwareDaemon d;
  t::make_dell_locked(d.sysfs);
  d.start("1s", "3s");
  REQUIRE(t::wait_until([&] { return !d.attestations().empty(); }));
  // One round later the unchanged result is not repeated...
  REQUIRE(d.wait_rounds(1, 3000));
  CHECK(d.attestations().size() == 1);
  // ...but once resend has passed it is ("still compliant").
  REQUIRE(t::wait_until([&] { return d.attestations().size() >= 2; }, 6000));
  auto events = d.attestations();
  CHECK(events[1]["details"] == events[0]["details"]);
  CHECK(events[1]["severity"] == "info");
}

TEST_CASE("a board swapped after imaging is reported at start", "[firmware][daemon]") {
  FirmwareDaemon d;
  t::make_dell_locked(d.sysfs);
  d.image("6h", "24h");
  d.sysfs.dmi("board_serial", "/1ABCDE2/CNCMK0099X0001/")
      .dmi("product_uuid", "4c4c4544-0000-1111-2222-333344445555");
  d.launch();
  REQUIRE(t::wait_until([&] { return !d.attestations().empty(); }));
  json e = d.attestations().at(0);
  CHECK(e["severity"] == "high");
  CHECK(e["details"]["overall"] == "violation");
  REQUIRE(e["details"]["baseline"]["drift"].size() == 2);
  CHECK(e["details"]["baseline"]["drift"][0] == json({{"field", "dmi/board_serial"},
                                                      {"baseline", "/7XK9F93/CNCMK0011J0068/"},
                                                      {"current", "/1ABCDE2/CNCMK0099X0001/"}}));
  // The technician's boot-order attestation no longer holds on a different board.
  CHECK(e["details"]["checks"][2]["result"] == "unknown");
}
