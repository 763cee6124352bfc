#include "netlock/load_sequence.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/net/fallback_file.hpp"
#include "core/net/ruleset.hpp"
#include "os/net/net_state.hpp"
#include "os/net/nft.hpp"

extern char** environ;

namespace seatlock::netlock {

namespace {

std::string describe(const std::string& source, const net::NetRules& rules,
                     const net::CompiledRuleset& c) {
  return "fallback table loaded from " + source + ": " + to_string(rules.mode) +
         (c.closed ? ", closed" : "") + ", " + std::to_string(c.base_elements) + " base + " +
         std::to_string(c.exception_elements) + " exception elements";
}

// Step 1. nullopt: no file; throws std::runtime_error when the file is there but unusable.
std::optional<std::string> load_cached_file(net::Nft& nft, const LoadPaths& paths, UnixMillis now) {
  auto text = net::read_fallback_file(paths.state_dir);
  if (!text) return std::nullopt;
  try {
    if (auto rules = net::rules_from_fallback_file(*text)) {
      rules->closed = rules->closed || net::read_closed_flag(paths.state_dir);
      net::CompiledRuleset c = net::compile_ruleset(*rules, now);
      nft.run(net::fallback_transaction(*rules, c));
      return describe("state file (recompiled)", *rules, c);
    }
    nft.run(*text);
    return std::string("fallback table loaded from state file (as written)");
  } catch (const std::exception& e) {
    throw std::runtime_error(net::fallback_file_path(paths.state_dir) + " not loaded: " + e.what());
  }
}

// Step 2: the full CLI, which links the policy loader; its output goes to our journal stream.
int run_seatlockctl(const LoadPaths& paths) {
  std::vector<std::string> args = {paths.seatlockctl, "--policy-dir",  paths.policy_dir,
                                   "--state-dir",     paths.state_dir, "net",
                                   "load-fallback"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (int r = posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ); r != 0)
    throw std::runtime_error("cannot run " + paths.seatlockctl + ": " + std::strerror(r));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

std::string lockdown_transaction() {
  const std::string t = net::kFallbackTable;
  return "add table inet " + t + "\ndelete table inet " + t + "\ntable inet " + t +
         " {\n"
         "  chain output {\n"
         "    type filter hook output priority filter + 10; policy drop;\n"
         "    meta oif \"lo\" accept\n"  // by index, as in the compiled chains
         "  }\n"
         "  chain input {\n"
         "    type filter hook input priority filter + 10; policy drop;\n"
         "    meta iif \"lo\" accept\n"
         "  }\n"
         "  chain forward {\n"
         "    type filter hook forward priority filter + 10; policy drop;\n"
         "  }\n"
         "}\n";
}

LoadOutcome load_at_boot(const LoadPaths& paths, UnixMillis now) {
  net::Nft nft;
  std::string problem;
  try {
    if (auto done = load_cached_file(nft, paths, now)) return {true, *done};
    problem = "no " + net::fallback_file_path(paths.state_dir);
  } catch (const std::exception& e) {
    problem = e.what();
  }
  std::string ctl_problem;
  try {
    int rc = run_seatlockctl(paths);
    if (rc == 0) return {true, problem + "; loaded from the policy directory instead"};
    ctl_problem = "seatlockctl net load-fallback exited with status " + std::to_string(rc);
  } catch (const std::exception& e) {
    ctl_problem = e.what();
  }
  try {
    nft.run(lockdown_transaction());
  } catch (const std::exception& e) {
    throw std::runtime_error(problem + "; " + ctl_problem +
                             "; and the lockdown table was refused too: " + e.what());
  }
  return {false, problem + "; " + ctl_problem +
                     "; loaded the lockdown table instead (loopback only until seatlockd "
                     "applies a policy)"};
}

}  // namespace seatlock::netlock
