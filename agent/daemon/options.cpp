#include "daemon/options.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "seatlock/version.hpp"

namespace seatlock {
namespace {

const char* kUsage = R"(usage: seatlockd [options]
Endpoint lockdown agent: USB per-interface blocking, egress firewall, firmware attestation,
durable evidence. Runs in the foreground (systemd Type=notify).

  --policy-dir DIR       policy files, merged in name order   [/etc/seatlock/policy.d]
  --state-dir DIR        spool, keys, last good policy          [/var/lib/seatlock]
  --control-socket PATH  root-only control socket                [/run/seatlock/control.sock]
  --sysfs DIR            where sysfs is mounted                  [/sys]
  --dev DIR              where device nodes are                  [/dev]
  --lease-root DIR       root of the DHCP lease directories      [/]
  --udev-rules-dir DIR   where generated udev rules are written  [/run/udev/rules.d]
  --netns NAME|PATH      enter this network namespace first (tests)
  --network-mode MODE    audit|enforce: override network.mode from the policy
  --components LIST      comma list of usb,network,firmware,delivery, or none [all]
  --seat-id ID           seat id (overrides report.seat_id; default hostname)
  --control-uid UID      also allow this uid on the control socket (tests only)
  --version, --help
)";

[[noreturn]] void bad(const std::string& msg) {
  std::fprintf(stderr, "seatlockd: %s\n%s", msg.c_str(), kUsage);
  std::exit(2);
}

}  // namespace

DaemonOptions parse_daemon_options(int argc, char** argv) {
  DaemonOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    bool has_inline = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_inline = true;
    }
    auto next = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) bad("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--version") {
      std::printf("seatlockd %s\n", kVersion);
      std::exit(0);
    } else if (a == "--policy-dir") {
      o.policy_dir = next();
    } else if (a == "--state-dir") {
      o.state_dir = next();
    } else if (a == "--control-socket") {
      o.control_socket = next();
    } else if (a == "--sysfs") {
      o.sysfs_root = next();
    } else if (a == "--dev") {
      o.dev_root = next();
    } else if (a == "--lease-root") {
      o.lease_root = next();
    } else if (a == "--udev-rules-dir") {
      o.udev_rules_dir = next();
    } else if (a == "--netns") {
      o.netns = next();
    } else if (a == "--network-mode") {
      std::string m = next();
      if (m == "audit")
        o.network_mode_override = Mode::Audit;
      else if (m == "enforce")
        o.network_mode_override = Mode::Enforce;
      else if (m != "policy")
        bad("--network-mode takes audit, enforce or policy, got '" + m + "'");
    } else if (a == "--components") {
      o.components.clear();
      std::stringstream list(next());
      for (std::string c; std::getline(list, c, ',');) {
        if (c == "none") continue;
        if (c != "usb" && c != "network" && c != "firmware" && c != "delivery")
          bad("unknown component '" + c + "' (usb, network, firmware, delivery)");
        o.components.insert(c);
      }
    } else if (a == "--seat-id") {
      o.seat_id = next();
    } else if (a == "--control-uid") {
      o.control_uid = static_cast<uid_t>(std::stoul(next()));
    } else {
      bad("unknown option '" + a + "'");
    }
  }
  return o;
}

}  // namespace seatlock
