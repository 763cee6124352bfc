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

}  // namespace

int cmd_status(const CliContext& ctx, const Args& args) {
  if (!args.empty()) return usage_error("status takes no arguments");
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
  std::cout << "components:\n";
  for (auto it = st["components"].begin(); it != st["components"].end(); ++it)
    std::cout << component_line(it.key(), it.value()) << "\n";
  return 0;
}

int cmd_reload(const CliContext& ctx, const Args& args) {
  if (!args.empty()) return usage_error("reload takes no arguments");
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
