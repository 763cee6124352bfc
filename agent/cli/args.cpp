// seatlockctl's use of the one flag parser: the global flags at every level, and the
// "seatlockctl: <message>" form of usage errors.
#include <cstdio>
#include <utility>

#include "cli/commands.hpp"

namespace seatlock::cli {
namespace {

const std::set<std::string> kGlobalValued = {"socket", "policy-dir", "state-dir", "sysfs"};

ArgSpec with_globals(ArgSpec spec) {
  spec.valued.insert(kGlobalValued.begin(), kGlobalValued.end());
  spec.switches.insert("json");
  return spec;
}

CliContext apply_globals(CliContext ctx, const ArgParser& a) {
  if (auto v = a.get("socket")) ctx.socket_path = *v;
  if (auto v = a.get("policy-dir")) ctx.policy_dir = *v;
  if (auto v = a.get("state-dir")) ctx.state_dir = *v;
  if (auto v = a.get("sysfs")) ctx.sysfs_root = *v;
  if (a.has("json")) ctx.json = true;
  return ctx;
}

ArgParser parse_named(const Args& args, const ArgSpec& spec, const std::string& name) {
  try {
    return ArgParser(args, spec);
  } catch (const UsageError& e) {
    if (name.empty()) throw;
    throw UsageError(name + ": " + e.what());
  }
}

}  // namespace

CommandLine parse_command(const CliContext& ctx, const Args& args, const std::string& name,
                          ArgSpec spec) {
  ArgParser a = parse_named(args, with_globals(std::move(spec)), name);
  return {apply_globals(ctx, a), std::move(a)};
}

Subcommand split_subcommand(const CliContext& ctx, const Args& args, const std::string& group,
                            const std::set<std::string>& switches) {
  ArgSpec spec;
  spec.switches = switches;
  spec.stop_at_positional = true;
  ArgParser a = parse_named(args, with_globals(std::move(spec)), group);
  Subcommand s{apply_globals(ctx, a), "", {}, a};
  if (!a.positional().empty()) {
    s.name = a.positional().front();
    s.rest.assign(a.positional().begin() + 1, a.positional().end());
  }
  return s;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "seatlockctl: %s\n(see 'seatlockctl help')\n", message.c_str());
  return 2;
}

}  // namespace seatlock::cli
