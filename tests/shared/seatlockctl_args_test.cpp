// seatlockctl's flags through the one parser (issue 18), as an admin meets them: a misspelt
// flag of any subcommand is a usage error that names it (exit 2), never silently ignored, and
// the global flags still work before the command and after it. No daemon: each command fails
// on its flags before it would reach one.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "support/process.hpp"

using namespace seatlock::test;

namespace {

const std::string kDefaultPolicy = std::string(SEATLOCK_SOURCE_DIR) + "/policy/default";

// seatlockctl pointed at nothing real. As root it runs as nobody: a command that wrongly got past
// its flags then fails on permissions instead of touching this machine (e.g. its nftables).
RunResult ctl(std::vector<std::string> args) {
  args.insert(args.begin(),
              {binary_path("agent/cli/seatlockctl"), "--socket", "/nonexistent/sock", "--state-dir",
               "/nonexistent/state", "--policy-dir", "/nonexistent/policy.d"});
  return ::geteuid() == 0 ? run_command(args, 65534, 65534) : run_command(args);
}

}  // namespace

TEST_CASE("seatlockctl names a misspelt flag of a subcommand and exits 2 instead of ignoring it",
          "[args][cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      // Used to load the fallback table from the default policy directory, ignoring the flag.
      {{"net", "load-fallback", "--policy-dri", "/tmp/p"},
       "net load-fallback: unknown option --policy-dri"},
      // Used to read "--bogus" as the baseline file (exit 1).
      {{"firmware", "verify", "--bogus"}, "firmware verify: unknown option --bogus"},
      {{"firmware", "verify", "b.json", "--trusted-kye", "K"},
       "firmware verify: unknown option --trusted-kye"},
      {{"usb", "revoke", "--tickt", "IT-1"}, "usb revoke: unknown option --tickt"},
      {{"status", "--jsno"}, "status: unknown option --jsno"},
      {{"net", "allow", "--user", "u", "--to", "10.0.0.1", "--for", "1h", "--ticket", "T",
        "--untill", "2026-12-01"},
       "net allow: unknown option --untill"},
      {{"events", "--kind"}, "events: --kind needs a value"},
      {{"--polcy-dir", "/tmp/p", "policy", "check"}, "unknown option --polcy-dir"},
  };
  for (const auto& c : cases) {
    auto r = ctl(c.args);
    INFO(c.args[0] << " " << c.args[1] << ": " << r.out);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::Contains("seatlockctl: " + c.message + "\n(see 'seatlockctl help')"));
  }
}

TEST_CASE("seatlockctl takes its global flags before the command and after it", "[args][cli]") {
  const std::string ctl_bin = binary_path("agent/cli/seatlockctl");
  auto before = run_command({ctl_bin, "--json", "--policy-dir", kDefaultPolicy, "policy", "show"});
  auto after = run_command({ctl_bin, "policy", "show", "--policy-dir", kDefaultPolicy, "--json"});
  REQUIRE(before.exit_code == 0);
  CHECK(after.exit_code == 0);
  CHECK(after.out == before.out);
  CHECK_THAT(before.out, !Catch::Contains("sha256: "));  // --json: the policy document only

  // Paths are positional among the flags; "--" lets one look like a flag.
  auto check = run_command(
      {ctl_bin, "policy", "check", "--at", "2026-12-01T00:00:00Z", "--", kDefaultPolicy});
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::StartsWith("policy OK: 1 file"));
}
