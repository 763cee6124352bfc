// End to end: the real seatlockd (--components usb) against a umockdev testbed, driven by
// seatlockctl. The test binary runs under libumockdev-preload; seatlockd inherits it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/events.hpp"
#include "support/process.hpp"
#include "usb/seat_dirs.hpp"
#include "usb/usb_testbed.hpp"

using namespace seatlock::test;
using nlohmann::json;

namespace {

struct UsbDaemon : SeatDirs {
  UsbTestbed& tb;
  std::string socket = dir + "/control.sock";
  std::unique_ptr<Child> child;

  explicit UsbDaemon(UsbTestbed& t, const std::string& usb_section = "") : SeatDirs("usbd"), tb(t) {
    if (!usb_section.empty())
      write_file(policy_dir + "/90-seat.json", "{\"usb\": " + usb_section + "}\n");
    start();
  }
  void start() {
    if (std::filesystem::exists(socket)) std::filesystem::remove(socket);
    child = std::make_unique<Child>(
        std::vector<std::string>{
            binary_path("agent/daemon/seatlockd"), "--policy-dir", policy_dir, "--state-dir",
            state_dir, "--control-socket", socket, "--components", "usb", "--sysfs", tb.sys_root(),
            "--dev", dir + "/dev", "--udev-rules-dir", rules_dir, "--seat-id", "cc-test-usb"},
        dir + "/seatlockd.log");
    REQUIRE(wait_until([&] { return ctl({"status"}).exit_code == 0; }));
  }
  ~UsbDaemon() {
    child.reset();
    std::filesystem::remove_all(dir);
  }
  RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {binary_path("agent/cli/seatlockctl"), "--socket", socket,
                               "--policy-dir", policy_dir});
    return run_command(args);
  }
};

}  // namespace

TEST_CASE("seatlockd: restart with devices present, plug, usb list", "[usb][daemon][umockdev]") {
  UsbTestbed tb;
  tb.plug("1-1", catalog::headset_with_storage());  // bound before seatlockd runs (kernel default)
  REQUIRE(tb.authorized("1-1:1.4") == "1");
  UsbDaemon d(tb);
  CHECK(tb.attr("bus/usb/devices/usb1/interface_authorized_default") == "0");
  CHECK(tb.authorized("1-1:1.0") == "1");
  CHECK(tb.authorized("1-1:1.3") == "1");
  CHECK(tb.authorized("1-1:1.4") == "0");  // the hidden storage is unbound
  CHECK(std::filesystem::exists(d.rules_dir + "/70-seatlock-usb.rules"));

  tb.plug("1-2", catalog::kingston_stick());
  tb.plug("1-3", catalog::dell_keyboard());
  REQUIRE(wait_until([&] { return tb.authorized("1-3:1.1") == "1"; }, 5000));
  CHECK(tb.authorized("1-2:1.0") == "0");

  RunResult list = d.ctl({"usb", "list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("1b3f:2008  GeneralPlus USB Audio Device") != std::string::npos);
  INFO(list.out);
  auto line_with = [&](const std::string& needle) {
    auto at = list.out.find(needle);
    if (at == std::string::npos) return std::string();
    auto start = list.out.rfind('\n', at) + 1;
    return list.out.substr(start, list.out.find('\n', at) - start);
  };
  const std::string storage = line_with("08/06/50  mass-storage \"Mass Storage\"");
  CHECK(storage.find(" no ") != std::string::npos);
  CHECK(storage.find("block") != std::string::npos);
  CHECK(storage.find("usb.storage: mass storage (08/06/50)") != std::string::npos);
  const std::string hid = line_with("03/00/00  hid");
  CHECK(hid.find(" yes ") != std::string::npos);
  CHECK(hid.find("usb.classes: class hid is allowed") != std::string::npos);
  REQUIRE(wait_until([&] { return events_of_kind(d.state_dir, "usb.blocked").size() == 2; }, 5000));
  auto blocked = events_of_kind(d.state_dir, "usb.blocked");
  CHECK(blocked[0]["details"]["port"] == "1-1");
  CHECK(blocked[0]["details"]["interfaces"].size() == 5);
  CHECK(blocked[1]["details"]["port"] == "1-2");
  CHECK(blocked[1]["seat"]["id"] == "cc-test-usb");

  // Restart: stopping leaves the seat locked; the new run finds the same state.
  d.child->stop();
  CHECK(tb.attr("bus/usb/devices/usb1/interface_authorized_default") == "0");
  CHECK(tb.authorized("1-2:1.0") == "0");
  tb.set_attr("bus/usb/devices/1-2:1.0/authorized", "1");  // bound while the daemon was down
  d.start();
  CHECK(tb.authorized("1-2:1.0") == "0");
  CHECK(tb.authorized("1-3:1.0") == "1");
}

TEST_CASE("seatlockctl usb allow / revoke: dated exception file, reload, expiry",
          "[usb][daemon][umockdev]") {
  UsbTestbed tb;
  UsbDaemon d(tb);
  tb.plug("1-2", catalog::kingston_stick());
  REQUIRE(wait_until([&] { return events_of_kind(d.state_dir, "usb.blocked").size() == 1; }, 5000));
  CHECK(tb.authorized("1-2:1.0") == "0");

  RunResult wrong = d.ctl({"usb", "allow", "--vid", "0951", "--pid", "1666", "--serial",
                           "NOT-THIS-ONE", "--for", "2h", "--ticket", "IT-1"});
  CHECK(wrong.exit_code == 0);
  CHECK(tb.authorized("1-2:1.0") == "0");

  RunResult ok = d.ctl({"usb", "allow", "--vid", "0951", "--pid", "1666", "--serial",
                        "E0D55EA573DCF450E97B0C5A", "--for", "3s", "--ticket", "IT-2"});
  INFO(ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(std::filesystem::exists(d.policy_dir + "/80-usb-exception-IT-2.json"));
  CHECK(tb.authorized("1-2:1.0") == "1");
  CHECK(tb.attr("bus/usb/drivers_probe") == "1-2:1.0");
  REQUIRE(
      wait_until([&] { return !events_of_kind(d.state_dir, "usb.exception_used").empty(); }, 5000));
  CHECK(events_of_kind(d.state_dir, "usb.exception_added").size() == 2);

  // expiry while plugged in: the timer deauthorizes it
  REQUIRE(wait_until([&] { return tb.authorized("1-2:1.0") == "0"; }, 8000));
  REQUIRE(wait_until([&] { return !events_of_kind(d.state_dir, "usb.exception_expired").empty(); },
                     3000));

  RunResult rv = d.ctl({"usb", "revoke", "--ticket", "IT-1"});
  CHECK(rv.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(d.policy_dir + "/80-usb-exception-IT-1.json"));
  CHECK(d.ctl({"usb", "allow", "--vid", "xyz", "--pid", "1666", "--for", "2h", "--ticket", "T"})
            .exit_code == 2);
}

TEST_CASE("seatlockd rejects a policy that allows mass storage by class",
          "[usb][daemon][umockdev]") {
  UsbTestbed tb;
  UsbDaemon d(tb);
  write_file(d.policy_dir + "/50-site.json",
             "{\"usb\": {\"allow_classes\": [\"hub\", \"hid\", \"mass-storage\"]}}\n");
  RunResult r = d.ctl({"reload"});
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("mass-storage") != std::string::npos);
  CHECK(r.out.find("storage-like") != std::string::npos);  // the loader or the usb service says why
}
