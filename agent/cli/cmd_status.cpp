// seatlockctl status / reload: ask the daemon over the control socket.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "core/util/time.hpp"
#include "os/control/control_server.hpp"

namespace seatlock::cli {
namespace {

std::string component_line(const std::string& name, const nlohmann::json& st) {
  std::string line = "  " + name;
  line.resize(std::max<std::size_t>(12, line.size() + 1), ' ');  // "attestation" is longer
  line += st.value("state", std::string("?"));
  for (const char* key : {"mode", "summary"}) {
    if (st.contains(key) && st[key].is_string())
      line += "  " + std::string(key) + "=" + st[key].get<std::string>();
  }
  return line;
}

// The fleet bundle (docs/fleet.md "On the seat"): what the JSON form has under
// components.fleet and policy.fleet, in a few lines. Nothing when the daemon runs no fleet poll.
void print_fleet(const nlohmann::json& st) {
  if (!st.contains("components") || !st["components"].contains("fleet")) return;
  const nlohmann::json& f = st["components"]["fleet"];
  std::string line = "fleet:     ";
  if (f.contains("in_force")) {
    const nlohmann::json& b = f["in_force"];
    line += "bundle " + std::to_string(b.value("version", std::uint64_t(0)));
    if (b.contains("applied_at")) line += ", applied " + b["applied_at"].get<std::string>();
    line += ", expires " + b.value("expires", std::string("?"));
  } else if (f.contains("expired")) {
    line += "bundle " + std::to_string(f["expired"].value("version", std::uint64_t(0))) +
            " EXPIRED: shipped default and local files in force";
  } else {
    line += "no bundle";
  }
  std::cout << line << " (" << f.value("state", std::string("?")) << ")\n";
  const nlohmann::json& pol = st["policy"];
  if (pol.contains("fleet") && pol["fleet"].contains("local_overrides") &&
      pol["fleet"]["local_overrides"].is_array() && !pol["fleet"]["local_overrides"].empty()) {
    std::string where;
    for (const auto& p : pol["fleet"]["local_overrides"])
      where += (where.empty() ? "" : ", ") + p.get<std::string>();
    std::cout << "LOCAL:     local files override the fleet at " << where << "\n";
  }
  if (f.contains("last_refusal")) {
    const nlohmann::json& r = f["last_refusal"];
    std::cout << "refused:   bundle " << r.value("version", std::uint64_t(0)) << " ("
              << r.value("refusal", std::string("?")) << ") at " << r.value("at", std::string("?"));
    if (r.value("repeats", 0) > 0) std::cout << ", sent again " << r["repeats"].get<int>() << "x";
    std::cout << "\n";
  }
}

}  // namespace

int cmd_status(const CliContext& base, const Args& args) {
  const CliContext ctx = parse_command(base, args, "status").ctx;
  nlohmann::json st = control_call(ctx.socket_path, "status");
  if (ctx.json) {
    std::cout << st.dump(2) << "\n";
    return 0;
  }
  std::cout << "seatlockd " << st.value("version", "?") << " (pid " << st.value("pid", 0)
            << "), up " << format_duration(st.value("uptime_s", 0LL) * 1000) << "\n";
  std::cout << "seat:      " << st["seat"].value("id", "?") << " ("
            << st["seat"].value("hostname", "?") << ")\n";
  const auto& pol = st["policy"];
  std::cout << "policy:    " << pol.value("sha256", std::string("(none)")) << "\n";
  if (pol.contains("applied_at"))
    std::cout << "applied:   " << pol["applied_at"].get<std::string>() << "\n";
  if (pol.contains("last_rejected"))
    std::cout << "REJECTED:  " << pol["last_rejected"].value("at", "") << ": "
              << pol["last_rejected"]["errors"].dump() << "\n";
  print_fleet(st);
  std::cout << "components:\n";
  for (auto it = st["components"].begin(); it != st["components"].end(); ++it)
    std::cout << component_line(it.key(), it.value()) << "\n";
  return 0;
}

int cmd_reload(const CliContext& base, const Args& args) {
  const CliContext ctx = parse_command(base, args, "reload").ctx;
  try {
    nlohmann::json r = control_call(ctx.socket_path, "reload");
    std::cout << "policy " << r.value("sha256", "") << " in force\n";
    return 0;
  } catch (const ControlError& e) {
    std::cerr << "seatlockctl: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace seatlock::cli
