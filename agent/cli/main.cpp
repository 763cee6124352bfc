// seatlockctl: the seat-side tool for IT admins and auditors.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "seatlock/version.hpp"

using namespace seatlock::cli;

namespace {

const char* kUsage =
    R"(usage: seatlockctl [--socket PATH] [--policy-dir DIR] [--state-dir DIR] [--sysfs DIR] [--json]
                   <command> [args...]

commands:
  status                     daemon version, uptime, policy hash and each component's state
  reload                     re-read the policy directory now
  policy check [PATH...]     validate policy files or directories (default: the policy dir)
  policy show                the merged effective policy and its SHA-256
  usb ...                    USB devices, decisions and exceptions (seatlockctl usb help)
  net ...                    egress status, close/open, exceptions (seatlockctl net help)
  firmware ...               firmware attestation and baselines (seatlockctl firmware help)
  events ...                 the local evidence spool, requeue (seatlockctl events help)
  setup ...                  one-off setup helpers (seatlockctl setup help)
  version
)";

}  // namespace

int main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  CliContext ctx;
  if (const char* s = std::getenv("SEATLOCK_CONTROL_SOCKET")) ctx.socket_path = s;
  ctx.socket_path = take_option(args, "--socket", ctx.socket_path);
  ctx.policy_dir = take_option(args, "--policy-dir", ctx.policy_dir);
  ctx.state_dir = take_option(args, "--state-dir", ctx.state_dir);
  ctx.sysfs_root = take_option(args, "--sysfs", ctx.sysfs_root);
  ctx.json = take_flag(args, "--json");
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::printf("seatlockctl %s\n", seatlock::kVersion);
    return 0;
  }
  static const std::map<std::string, int (*)(const CliContext&, const Args&)> kGroups = {
      {"status", cmd_status}, {"reload", cmd_reload}, {"policy", cmd_policy},
      {"usb", cmd_usb},       {"net", cmd_net},       {"firmware", cmd_firmware},
      {"events", cmd_events}, {"setup", cmd_setup}};
  auto it = kGroups.find(args[0]);
  if (it == kGroups.end()) return usage_error("unknown command '" + args[0] + "'");
  Args rest(args.begin() + 1, args.end());
  try {
    return it->second(ctx, rest);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlockctl: %s\n", e.what());
    return 1;
  }
}
