// seatlockctl usb: list devices and decisions, grant and revoke exceptions (as dated policy
// files, so every grant is persisted, reviewable and an event), snapshot a starting policy
// from the devices present, print the udev rules for the policy directory.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.hpp"
#include "core/policy/loader.hpp"
#include "core/usb/usb_decision.hpp"
#include "core/usb/usb_udev_rules.hpp"
#include "os/base/atomic_file.hpp"
#include "os/base/policy_files.hpp"
#include "os/control/control_server.hpp"
#include "os/events/reporter.hpp"
#include "os/usb/usb_sysfs.hpp"

namespace seatlock::cli {
namespace {

using nlohmann::json;

const char* kUsbUsage = R"(usage: seatlockctl usb <command>
  list                          every USB device, its interfaces, authorized state and why
  allow --vid VID --pid PID [--serial S] [--port P] --for DURATION --ticket T [--read-only]
        [--comment TEXT]        grant a device exception: writes
                                <policy-dir>/80-usb-exception-<ticket>.json and reloads
  revoke --ticket T             remove that exception file and reload
  snapshot                      a starting policy (audit mode) from the devices present now
  rules                         the udev rules seatlockd generates for the policy directory
)";

std::string pad(std::string s, std::size_t n) {
  if (s.size() < n) s.resize(n, ' ');
  return s;
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

void print_device(const json& d) {
  bool blocked = false;
  for (const auto& i : d["interfaces"]) blocked |= i.value("decision", "") == "block";
  std::cout << pad(str(d, "port"), 8) << str(d, "vid") << ":" << str(d, "pid") << "  "
            << (str(d, "manufacturer").empty() ? "" : str(d, "manufacturer") + " ")
            << str(d, "product") << "  serial "
            << (str(d, "serial").empty() ? "-" : str(d, "serial"));
  if (d.contains("exception"))
    std::cout << "  exception " << str(d["exception"], "ticket") << " until "
              << str(d["exception"], "until");
  std::cout << (blocked ? "  [interfaces blocked]" : "") << "\n";
  for (const auto& m : d.value("exception_misses", json::array()))
    std::cout << "        note: " << m.get<std::string>() << "\n";
  std::cout << "        " << pad("if", 4) << pad("class", 10) << pad("name", 30)
            << pad("authorized", 12) << pad("decision", 10) << "rule / reason\n";
  for (const auto& i : d["interfaces"]) {
    std::string name = str(i, "name");
    if (!str(i, "interface").empty()) name += " \"" + str(i, "interface") + "\"";
    std::cout << "        " << pad(std::to_string(i.value("n", 0)), 4)
              << pad(str(i, "class") + "/" + str(i, "subclass") + "/" + str(i, "protocol"), 10)
              << pad(name, 30) << pad(i.value("authorized", false) ? "yes" : "no", 12)
              << pad(str(i, "decision"), 10) << str(i, "rule") << ": " << str(i, "reason") << "\n";
  }
}

int usb_list(const CliContext& base, const Args& argv) {
  const CliContext ctx = parse_command(base, argv, "usb list").ctx;
  json r = control_call(ctx.socket_path, "usb.list");
  if (ctx.json) {
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  std::cout << "USB lockdown mode: " << str(r, "mode") << "\n";
  for (const auto& d : r["devices"]) {
    if (d.value("root_hub", false)) continue;
    print_device(d);
  }
  return 0;
}

bool is_hex4(const std::string& s) {
  if (s.size() != 4) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string exception_file_name(const std::string& ticket) {
  std::string safe;
  for (char c : ticket)
    safe +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return "80-usb-exception-" + safe + ".json";
}

// Tells the daemon to reload; the grant is on disk either way.
int reload_daemon(const CliContext& ctx) {
  try {
    json r = control_call(ctx.socket_path, "reload");
    std::cout << "seatlockd reloaded: policy " << r.value("sha256", "") << " in force\n";
    return 0;
  } catch (const ControlError& e) {
    std::cerr << "seatlockctl: seatlockd rejected the policy: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "seatlockctl: warning: " << e.what()
              << "; the change applies when seatlockd next loads the policy\n";
    return 0;
  }
}

int usb_allow(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"vid", "pid", "serial", "port", "for", "ticket", "comment"};
  spec.switches = {"read-only"};
  auto [ctx, args] = parse_command(base, argv, "usb allow", spec);
  auto value = [&args = args](const char* name) { return args.get(name).value_or(""); };
  const std::string vid = lower(value("vid")), pid = lower(value("pid"));
  const std::string serial = value("serial"), port = value("port");
  const std::string duration = value("for"), ticket = value("ticket");
  const std::string comment = value("comment");
  const bool read_only = args.has("read-only");
  if (!is_hex4(vid))
    return usage_error("usb allow: --vid needs 4 hex digits (e.g. 0951), got '" + vid + "'");
  if (!is_hex4(pid))
    return usage_error("usb allow: --pid needs 4 hex digits (e.g. 1666), got '" + pid + "'");
  if (ticket.empty())
    return usage_error("usb allow: --ticket is required (the approval's reference)");
  auto ms = parse_duration_ms(duration);
  if (!ms || *ms <= 0)
    return usage_error("usb allow: --for needs a duration such as 2h or 90m, got '" + duration +
                       "'");

  const UnixMillis now = now_millis();
  json x = {
      {"vid", vid}, {"pid", pid}, {"until", format_rfc3339_ms(now + *ms)}, {"ticket", ticket}};
  if (!serial.empty()) x["serial"] = serial;
  if (!port.empty()) x["port"] = port;
  if (read_only) x["read_only"] = true;
  x["comment"] = comment.empty() ? "granted with seatlockctl usb allow by uid " +
                                       std::to_string(getuid()) + " at " + format_rfc3339_ms(now)
                                 : comment;
  const std::string text = "// Written by seatlockctl usb allow at " + format_rfc3339_ms(now) +
                           " (ticket " + ticket +
                           ").\n// Remove with: seatlockctl usb revoke --ticket " + ticket + "\n" +
                           json{{"usb", {{"exceptions", json::array({x})}}}}.dump(2) + "\n";

  // Validate the directory as it will be, so a bad grant never lands.
  const std::string name = exception_file_name(ticket);
  const std::string dir_label = std::filesystem::path(ctx.policy_dir).filename().string();
  std::vector<PolicyFile> files = read_policy_dir(ctx.policy_dir);
  const std::string label = dir_label + "/" + name;
  std::erase_if(files, [&](const PolicyFile& f) { return f.name == label; });
  files.push_back({label, text});
  std::sort(files.begin(), files.end(),
            [](const PolicyFile& a, const PolicyFile& b) { return a.name < b.name; });
  PolicyLoadOptions lo;
  lo.now = now;
  lo.expired_is_error = false;
  auto res = load_policy(files, lo);
  if (!res.errors.empty()) {
    for (const auto& e : res.errors) std::cerr << e.text() << "\n";
    std::cerr << "seatlockctl: exception not written\n";
    return 1;
  }
  const std::string path = ctx.policy_dir + "/" + name;
  atomic_write(path, text, 0644);
  std::cout << "wrote " << path << ": " << vid << ":" << pid
            << (serial.empty() ? "" : " serial " + serial) << (port.empty() ? "" : " port " + port)
            << " allowed until " << x["until"].get<std::string>()
            << (read_only ? " (read-only)" : "") << ", ticket " << ticket << "\n";
  return reload_daemon(ctx);
}

int usb_revoke(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"ticket"};
  auto [ctx, args] = parse_command(base, argv, "usb revoke", spec);
  const std::string ticket = args.get("ticket").value_or("");
  if (ticket.empty()) return usage_error("usage: seatlockctl usb revoke --ticket T");
  const std::string path = ctx.policy_dir + "/" + exception_file_name(ticket);
  if (!std::filesystem::exists(path)) {
    std::cerr << "seatlockctl: no exception file " << path
              << " (exceptions written by hand live in their own policy files; edit those)\n";
    return 1;
  }
  std::filesystem::remove(path);
  std::cout << "removed " << path << "\n";
  return reload_daemon(ctx);
}

// A policy that allows the (non-storage-like) classes of everything present now, in audit
// mode, listing what enforce mode would still block.
int usb_snapshot(const CliContext& base, const Args& argv) {
  const CliContext ctx = parse_command(base, argv, "usb snapshot").ctx;
  UsbSysfs sysfs(ctx.sysfs_root);
  std::set<std::string> classes = {"hub", "hid", "audio"};
  std::vector<UsbDevice> devices;
  for (const auto& n : sysfs.device_names()) {
    auto d = sysfs.read_device(n);
    if (!d || d->is_root_hub()) continue;
    for (const auto& itf : d->interfaces) {
      auto k = classify_interface(*d, itf);
      if (k.storage == StorageKind::None && !k.name.empty()) classes.insert(k.name);
    }
    devices.push_back(*d);
  }
  UsbPolicy p;
  p.allow_classes.assign(classes.begin(), classes.end());
  std::ostringstream notes;
  for (const auto& d : devices) {
    auto dec = decide_usb(d, p, now_millis());
    notes << "// " << d.port << " " << d.vid << ":" << d.pid << " " << d.product
          << (d.serial.empty() ? "" : " (serial " + d.serial + ")") << ":";
    for (const auto& i : dec.interfaces)
      notes << " " << i.klass.label << "=" << (i.allow ? "allowed" : "BLOCKED");
    notes << "\n";
  }
  std::cout << "// seatlockctl usb snapshot of " << ctx.sysfs_root << " at "
            << format_rfc3339_ms(now_millis())
            << ".\n// Review, switch \"mode\" to \"enforce\" when nothing you need is BLOCKED; "
               "storage-like\n"
            << "// devices need an exception (seatlockctl usb allow).\n"
            << notes.str()
            << json{{"usb", {{"mode", "audit"}, {"allow_classes", p.allow_classes}}}}.dump(2)
            << "\n";
  return 0;
}

int usb_rules(const CliContext& base, const Args& argv) {
  const CliContext ctx = parse_command(base, argv, "usb rules").ctx;
  PolicyLoadOptions lo;
  lo.now = now_millis();
  lo.expired_is_error = false;
  auto res = load_policy(read_policy_dir(ctx.policy_dir), lo);
  if (!res.policy) {
    for (const auto& e : res.errors) std::cerr << e.text() << "\n";
    return 1;
  }
  std::cout << generate_usb_udev_rules(res.policy->usb);
  return 0;
}

}  // namespace

int cmd_usb(const CliContext& ctx, const Args& args) {
  Subcommand sub = split_subcommand(ctx, args, "usb");
  if (sub.name.empty() || sub.name == "help" || sub.flags.has("help")) {
    const bool asked = !sub.name.empty() || sub.flags.has("help");
    std::fputs(kUsbUsage, asked ? stdout : stderr);
    return asked ? 0 : 2;
  }
  if (sub.name == "list") return usb_list(sub.ctx, sub.rest);
  if (sub.name == "allow") return usb_allow(sub.ctx, sub.rest);
  if (sub.name == "revoke") return usb_revoke(sub.ctx, sub.rest);
  if (sub.name == "snapshot") return usb_snapshot(sub.ctx, sub.rest);
  if (sub.name == "rules") return usb_rules(sub.ctx, sub.rest);
  return usage_error("unknown usb command '" + sub.name + "'");
}

}  // namespace seatlock::cli
