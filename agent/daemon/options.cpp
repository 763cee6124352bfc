#include "daemon/options.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "os/base/program_args.hpp"

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
  --usbd-socket PATH     seatlock-usbd's channel      [usbd.sock next to --control-socket]
  --netns NAME|PATH      enter this network namespace first (tests)
  --network-mode MODE    audit|enforce: override network.mode from the policy
  --components LIST      comma list of usb,network,firmware,delivery, or none [all]
  --seat-id ID           seat id (overrides report.seat_id; default hostname)
  --control-uid UID      also allow this uid on the control socket (tests only)
  --version, --help
)";
const ProgramInfo kProgram{"seatlockd", kUsage};

[[noreturn]] void bad(const std::string& msg) {
  exit_usage(kProgram, msg);
}

}  // namespace

DaemonOptions parse_daemon_options(int argc, char** argv) {
  std::set<std::string> flags = kSeatPathFlags;
  flags.insert({"control-socket", "lease-root", "usbd-socket", "netns", "network-mode",
                "components", "control-uid"});
  const ArgParser args = parse_program_args(argc, argv, kProgram, flags);
  try {
    DaemonOptions o;
    take_seat_paths(args, o);
    args.take("control-socket", o.control_socket);
    args.take("lease-root", o.lease_root);
    args.take("usbd-socket", o.usbd_socket);
    args.take("netns", o.netns);
    if (auto m = args.get("network-mode")) {
      if (*m == "audit")
        o.network_mode_override = Mode::Audit;
      else if (*m == "enforce")
        o.network_mode_override = Mode::Enforce;
      else if (*m != "policy")
        bad("--network-mode takes audit, enforce or policy, got '" + *m + "'");
    }
    if (auto list_text = args.get("components")) {
      o.components.clear();
      std::stringstream list(*list_text);
      for (std::string c; std::getline(list, c, ',');) {
        if (c == "none") continue;
        if (c != "usb" && c != "network" && c != "firmware" && c != "delivery")
          bad("unknown component '" + c + "' (usb, network, firmware, delivery)");
        o.components.insert(c);
      }
    }
    if (auto uid = args.number("control-uid")) {
      if (*uid >= static_cast<uid_t>(-1))
        bad("--control-uid: " + std::to_string(*uid) + " is not a uid");
      o.control_uid = static_cast<uid_t>(*uid);
    }
    return o;
  } catch (const UsageError& e) {
    bad(e.what());
  }
}

}  // namespace seatlock
