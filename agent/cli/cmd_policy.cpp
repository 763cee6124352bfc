// seatlockctl policy check|show: validate policy files and print the merged effective policy.
#include <cstdio>
#include <iostream>
#include <limits>

#include "cli/commands.hpp"
#include "core/policy/loader.hpp"
#include "os/base/clock.hpp"
#include "os/base/policy_files.hpp"

namespace seatlock::cli {
namespace {

const char* kPolicyUsage = R"(usage: seatlockctl policy check [--at TIME] [PATH...]
       seatlockctl policy show [--json] [PATH...]

PATH is a policy file or a directory of *.json files (default: the policy directory). Files are
merged in name order, as if they all sat in one policy.d.
  check   exit 0 with a one-line summary when valid; exit 1 listing every error
          (--at TIME checks as of an RFC 3339 time instead of now: which exceptions will have expired)
  show    the merged effective policy (built-in defaults filled in) and its SHA-256;
          expired exceptions are left out with a warning, as seatlockd does
)";

// "2026-12-01T10:00:00Z": whole seconds are shown without ".000".
std::string short_time(UnixMillis t) {
  std::string s = format_rfc3339_ms(t);
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ".000Z") == 0) s = s.substr(0, s.size() - 5) + "Z";
  return s;
}

// Loads the given paths (or the policy directory). Prints diagnostics; returns nullopt on errors.
std::optional<Policy> load(const CliContext& ctx, const Args& paths,
                           const PolicyLoadOptions& options) {
  std::vector<PolicyFile> files;
  Args where = paths.empty() ? Args{ctx.policy_dir} : paths;
  try {
    files = read_policy_paths(where);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return std::nullopt;
  }
  if (files.empty()) {
    std::string list;
    for (const auto& p : where) list += (list.empty() ? "" : ", ") + p;
    std::fprintf(stderr, "%s: no *.json policy files\n", list.c_str());
    return std::nullopt;
  }
  PolicyLoadResult r = load_policy(files, options);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.text().c_str());
  for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.text().c_str());
  return r.policy;
}

ArgSpec paths_and(std::set<std::string> valued) {
  ArgSpec spec;
  spec.valued = std::move(valued);
  spec.max_positional = ArgSpec::kAny;  // PATH...
  return spec;
}

int check(const CliContext& base, const Args& argv) {
  auto [ctx, args] = parse_command(base, argv, "policy check", paths_and({"at"}));
  PolicyLoadOptions options;
  options.now = now_millis();
  options.expired_is_error = true;
  if (auto at = args.get("at")) {
    auto t = parse_rfc3339(*at);
    if (!t)
      return usage_error("policy check: --at expects an RFC 3339 time with offset, got \"" + *at +
                         "\"");
    options.now = *t;
  }
  auto policy = load(ctx, args.positional(), options);
  if (!policy) return 1;
  std::size_t exceptions = policy->usb.exceptions.size() + policy->network.exceptions.size();
  UnixMillis next = std::numeric_limits<UnixMillis>::max();
  for (const auto& e : policy->usb.exceptions) next = std::min(next, e.until);
  for (const auto& e : policy->network.exceptions) next = std::min(next, e.until);
  std::string summary = "policy OK: " + std::to_string(policy->sources.size()) +
                        (policy->sources.size() == 1 ? " file" : " files") + ", sha256 " +
                        policy->sha256.substr(0, 12) + "..., usb " + to_string(policy->usb.mode) +
                        ", network " + to_string(policy->network.mode) + ", firmware " +
                        to_string(policy->firmware.mode) + ", " + std::to_string(exceptions) +
                        (exceptions == 1 ? " exception" : " exceptions");
  if (exceptions > 0) summary += " (next expiry " + short_time(next) + ")";
  std::printf("%s\n", summary.c_str());
  return 0;
}

int show(const CliContext& base, const Args& argv) {
  auto [ctx, args] = parse_command(base, argv, "policy show", paths_and({}));
  PolicyLoadOptions options;
  options.now = now_millis();
  options.expired_is_error = false;
  auto policy = load(ctx, args.positional(), options);
  if (!policy) return 1;
  std::cout << policy->effective.dump(2) << "\n";
  if (!ctx.json) std::cout << "sha256: " << policy->sha256 << "\n";
  return 0;
}

}  // namespace

int cmd_policy(const CliContext& ctx, const Args& args) {
  Subcommand sub = split_subcommand(ctx, args, "policy");
  if (sub.flags.has("help") || sub.name == "help") {
    std::fputs(kPolicyUsage, stdout);
    return 0;
  }
  if (sub.name.empty()) {
    std::fputs(kPolicyUsage, stderr);
    return 2;
  }
  if (sub.name == "check") return check(sub.ctx, sub.rest);
  if (sub.name == "show") return show(sub.ctx, sub.rest);
  return usage_error("policy: unknown subcommand '" + sub.name + "'");
}

}  // namespace seatlock::cli
