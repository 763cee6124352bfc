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
  CliContext env;
  if (const char* s = std::getenv("SEATLOCK_CONTROL_SOCKET")) env.socket_path = s;
  static const std::map<std::string, int (*)(const CliContext&, const Args&)> kGroups = {
      {"status", cmd_status}, {"reload", cmd_reload}, {"policy", cmd_policy},
      {"usb", cmd_usb},       {"net", cmd_net},       {"firmware", cmd_firmware},
      {"events", cmd_events}, {"setup", cmd_setup}};
  try {
    // The global flags before the command; each command takes them after its name too.
    Subcommand cmd = split_subcommand(env, Args(argv + 1, argv + argc), "", {"help", "version"});
    if (cmd.flags.has("version") || cmd.name == "version") {
      std::printf("seatlockctl %s\n", seatlock::kVersion);
      return 0;
    }
    if (cmd.flags.has("help") || cmd.name == "help" || cmd.name == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd.name.empty()) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    auto it = kGroups.find(cmd.name);
    if (it == kGroups.end()) return usage_error("unknown command '" + cmd.name + "'");
    return it->second(cmd.ctx, cmd.rest);
  } catch (const seatlock::UsageError& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlockctl: %s\n", e.what());
    return 1;
  }
}
