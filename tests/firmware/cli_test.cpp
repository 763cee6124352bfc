// seatlockctl firmware keygen / baseline / verify / status --local as real processes on fake
// sysfs trees.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "firmware/fake_sysfs.hpp"
#include "support/process.hpp"

using nlohmann::json;
namespace t = seatlock::test;

namespace {

struct Workspace {
  t::TempDir dir;
  std::string key = dir.str() + "/it-key.pem";
  std::string baseline = dir.str() + "/baseline.json";
  std::string policy_dir = dir.str() + "/policy.d";
  std::string pubkey;

  t::RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), t::binary_path("agent/cli/seatlockctl"));
    return t::run_command(args);
  }
  void keygen() {
    auto r = ctl({"firmware", "keygen", "--out", key});
    REQUIRE(r.exit_code == 0);
    pubkey = t::pubkey_line(r.out);
  }
  void policy(const std::string& require) {
    std::filesystem::create_directories(policy_dir);
    json p = {{"firmware",
               {{"mode", "audit"},
                {"require", json::parse(require)},
                {"baseline", baseline},
                {"trusted_keys", {pubkey}}}}};
    t::write_file(policy_dir + "/00-seat.json", p.dump(2));
  }
};

bool has_line(const std::string& out, const std::string& line) {
  return ("\n" + out).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("keygen writes a private key only root can read and prints the public key",
          "[firmware][cli]") {
  Workspace w;
  w.keygen();
  REQUIRE(w.pubkey.size() == 44);  // base64 of 32 bytes, alone on its line
  struct stat st;
  REQUIRE(::stat(w.key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(t::read_file(w.key).rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  auto again = w.ctl({"firmware", "keygen", "--out", w.key});
  CHECK(again.exit_code == 2);
  CHECK(again.out.find("exists (use --force to replace it)") != std::string::npos);
}

TEST_CASE("baseline records the machine and the technician's answers, signed", "[firmware][cli]") {
  Workspace w;
  w.keygen();
  t::FakeSysfs f;
  t::make_dell_locked(f);
  auto r = w.ctl({"--sysfs", f.str(), "firmware", "baseline", "--out", w.baseline, "--sign-key",
                  w.key, "--attest", "boot_order_locked=yes", "--attest", "admin_password=yes",
                  "--note", "seat 117 imaging"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("signed by:  " + w.pubkey) != std::string::npos);
  json doc = json::parse(t::read_file(w.baseline));
  CHECK(doc["key"] == w.pubkey);
  CHECK(doc["baseline"]["dmi"]["bios_version"] == "3.2.0");
  CHECK(doc["baseline"]["attested"] ==
        json{{"admin_password", "yes"}, {"boot_order_locked", "yes"}});
  CHECK(doc["baseline"]["note"] == "seat 117 imaging");

  auto ok = w.ctl({"firmware", "verify", w.baseline, "--trusted-key", w.pubkey});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find(": ok - signed by a trusted key") != std::string::npos);

  doc["baseline"]["dmi"]["bios_version"] = "3.4.1";
  t::write_file(w.baseline, doc.dump());
  auto bad = w.ctl({"firmware", "verify", w.baseline, "--trusted-key", w.pubkey});
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("invalid - signature does not match") != std::string::npos);

  auto wrong = w.ctl({"--sysfs", f.str(), "firmware", "baseline", "--out", w.baseline, "--sign-key",
                      w.key, "--attest", "bios_pw=yes"});
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.out.find("unknown check 'bios_pw'") != std::string::npos);
  auto no_key = w.ctl({"--sysfs", f.str(), "firmware", "baseline", "--out", w.baseline,
                       "--sign-key", w.dir.str() + "/nope.pem"});
  CHECK(no_key.exit_code == 1);
  CHECK(no_key.out.find("nope.pem: No such file or directory") != std::string::npos);
}

TEST_CASE("firmware status --local prints the table for a compliant Dell and after a CMOS reset",
          "[firmware][cli]") {
  Workspace w;
  w.keygen();
  w.policy(R"(["admin_password","usb_boot_disabled","boot_order_locked","secure_boot"])");
  t::FakeSysfs f;
  t::make_dell_locked(f);
  REQUIRE(w.ctl({"--sysfs", f.str(), "firmware", "baseline", "--out", w.baseline, "--sign-key",
                 w.key, "--attest", "boot_order_locked=yes"})
              .exit_code == 0);

  auto r =
      w.ctl({"--sysfs", f.str(), "--policy-dir", w.policy_dir, "firmware", "status", "--local"});
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(has_line(r.out, "CHECK                  RESULT   SOURCE    EVIDENCE"));
  CHECK(has_line(r.out,
                 "admin_password *       pass     firmware  authentication/dell-wmi-sysman/Admin "
                 "is_enabled = 1"));
  CHECK(has_line(r.out,
                 "usb_boot_disabled *    pass     firmware  dell-wmi-sysman/UsbEmu = Disabled"));
  CHECK(r.out.find("boot_order_locked *    pass     attested  technician attested 'yes'") !=
        std::string::npos);
  CHECK(has_line(
      r.out,
      "usb_storage_disabled   pass     firmware  dell-wmi-sysman/UsbPortsExternal = Disabled"));
  CHECK(has_line(r.out,
                 "secure_boot *          pass     efivars   efivars SecureBoot=1 SetupMode=0"));
  CHECK(has_line(r.out, "overall:   compliant"));

  t::FakeSysfs reset;
  t::make_dell_cmos_reset(reset);
  auto v = w.ctl(
      {"--sysfs", reset.str(), "--policy-dir", w.policy_dir, "firmware", "status", "--local"});
  INFO(v.out);
  CHECK(v.exit_code == 1);
  CHECK(has_line(v.out,
                 "admin_password *       fail     firmware  authentication/dell-wmi-sysman/Admin "
                 "is_enabled = 0"));
  CHECK(has_line(v.out, "drift:     settings/dell-wmi-sysman/UsbEmu: Disabled -> Enabled"));
  CHECK(has_line(v.out, "overall:   violation"));

  auto j = w.ctl({"--json", "--sysfs", reset.str(), "--policy-dir", w.policy_dir, "firmware",
                  "status", "--local"});
  json parsed = json::parse(j.out);
  CHECK(parsed["overall"] == "violation");
  CHECK(parsed["baseline"]["status"] == "ok");
}

TEST_CASE("firmware status --local with an unlisted signing key reports an untrusted baseline",
          "[firmware][cli]") {
  Workspace w;
  w.keygen();
  t::FakeSysfs f;
  t::make_dell_locked(f);
  REQUIRE(
      w.ctl({"--sysfs", f.str(), "firmware", "baseline", "--out", w.baseline, "--sign-key", w.key})
          .exit_code == 0);
  Workspace other;
  other.keygen();
  auto r = w.ctl({"--sysfs", f.str(), "--policy-dir", w.dir.str() + "/none", "firmware", "status",
                  "--local", "--baseline", w.baseline, "--trusted-key", other.pubkey});
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("baseline:  untrusted - " + w.baseline + ": signed by key " + w.pubkey) !=
        std::string::npos);
}
