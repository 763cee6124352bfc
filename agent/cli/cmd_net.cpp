// seatlockctl net: egress status, IT's close/open switch, exceptions, and the boot-time loader.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "core/net/net_rules.hpp"
#include "core/policy/loader.hpp"
#include "os/base/atomic_file.hpp"
#include "os/base/policy_files.hpp"
#include "os/control/control_server.hpp"
#include "os/events/reporter.hpp"
#include "os/net/fallback_loader.hpp"
#include "os/net/user_directory.hpp"

namespace seatlock::cli {

using nlohmann::json;

namespace {

const char* kNetUsage = R"(usage: seatlockctl net <command>
  status                       mode, open/closed, rule counts, active exceptions, counters
  close                        IT's internet-off switch: suspend every exception now (persists)
  open                         lift `close`
  allow (--user U | --group G)... --to CIDR[:PORT[-PORT]]... [--proto tcp|udp|any]
        (--for DURATION | --until RFC3339) --ticket T [--comment TEXT] [--no-reload]
                               write policy.d/80-net-exception-<T>.json and reload the daemon
  load-fallback                load the fail-closed table (boot oneshot; needs no daemon)
  compile [--fallback]         print the nftables transaction for the policy directory
)";

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// Every value of a repeatable flag, comma lists expanded ("--user a,b --user c").
std::vector<std::string> all_items(const ArgParser& args, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& v : args.all(name))
    for (auto& item : split_list(v)) out.push_back(item);
  return out;
}

void print_status(const json& s) {
  std::printf("network:     %s, %s\n", s.value("mode", "?").c_str(),
              s.value("closed", false)
                  ? "CLOSED (exceptions and non-essential allow entries suspended)"
                  : "open (exceptions in force)");
  for (const auto& c : s.value("closed_by", json::array())) {
    if (c.value("by", "") == "local" && !c.contains("ticket")) {
      std::printf("closed by:   local (seatlockctl net close)\n");
      continue;
    }
    std::printf("closed by:   %s ticket %s, by %s%s%s (%s)\n",
                c.value("fleet", false) ? "fleet" : "policy", c.value("ticket", "?").c_str(),
                c.value("by", "?").c_str(), c.contains("until") ? ", until " : ", until opened",
                c.value("until", "").c_str(), c.value("source", "").c_str());
  }
  std::printf("state:       %s%s\n", s.value("state", "?").c_str(),
              s.contains("error") ? (" - " + s["error"].get<std::string>()).c_str() : "");
  if (s.contains("applied_at"))
    std::printf("applied:     %s (%.1f ms)\n", s["applied_at"].get<std::string>().c_str(),
                s.value("apply_ms", 0.0));
  if (s.contains("rules")) {
    const json& r = s["rules"];
    std::printf(
        "rules:       %zu allow entries, %zu dns, %zu ntp, %zu collector address(es), %zu planned "
        "address(es)\n",
        r.value("allow_entries", std::size_t(0)), r["dns"].size(), r["ntp"].size(),
        r.value("collector", std::size_t(0)), r.value("planned_addresses", std::size_t(0)));
    std::printf("sets:        %zu base elements, %zu exception elements\n",
                r.value("base_set_elements", std::size_t(0)),
                r.value("exception_set_elements", std::size_t(0)));
  }
  const json active = s.value("active_exceptions", json::array());
  std::printf("exceptions:  %zu active\n", active.size());
  for (const auto& a : active) {
    std::string who;
    for (const auto& u : a["users"])
      who += (who.empty() ? "" : ",") + std::string("user ") + u.get<std::string>();
    for (const auto& g : a["groups"])
      who += (who.empty() ? "" : ",") + std::string("group ") + g.get<std::string>();
    std::printf("  %-14s %-28s until %s (%s left) %s\n", a.value("ticket", "").c_str(), who.c_str(),
                a.value("until", "").c_str(), a.value("left", "").c_str(),
                a.value("source", "").c_str());
  }
  if (s.contains("counters"))
    for (const auto& [table, counters] : s["counters"].items()) {
      std::printf("counters:    %-18s", table.c_str());
      if (counters.contains("error"))
        std::printf(" (%s)", counters["error"].get<std::string>().c_str());
      for (const auto& [name, c] : counters.items())
        if (c.is_object()) std::printf(" %s=%llu pkts", name.c_str(), c.value("packets", 0ULL));
      std::printf("\n");
    }
  if (s.contains("events"))
    std::printf("events:      %llu tamper, %llu egress_denied\n", s["events"].value("tamper", 0ULL),
                s["events"].value("egress_denied", 0ULL));
}

int cmd_allow(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"user", "group", "to", "proto", "for", "until", "ticket", "comment"};
  spec.switches = {"no-reload"};
  auto [ctx, args] = parse_command(base, argv, "net allow", spec);
  const auto users = all_items(args, "user");
  const auto groups = all_items(args, "group");
  const auto to = all_items(args, "to");
  const std::string proto = args.get("proto").value_or("");
  const std::string for_text = args.get("for").value_or("");
  const std::string until_text = args.get("until").value_or("");
  const std::string ticket = args.get("ticket").value_or("");
  const std::string comment = args.get("comment").value_or("");
  const bool no_reload = args.has("no-reload");
  if (users.empty() && groups.empty())
    return usage_error("net allow: --user or --group is required");
  if (to.empty()) return usage_error("net allow: --to CIDR[:PORT] is required");
  if (ticket.empty()) return usage_error("net allow: --ticket is required");
  if (for_text.empty() == until_text.empty())
    return usage_error("net allow: give exactly one of --for and --until");
  UnixMillis until = 0;
  if (!for_text.empty()) {
    auto ms = parse_duration_ms(for_text);
    if (!ms)
      return usage_error("net allow: --for: expected a duration such as 2h or 90m, got '" +
                         for_text + "'");
    until = now_millis() + *ms;
  } else {
    auto t = parse_rfc3339(until_text);
    if (!t)
      return usage_error("net allow: --until: expected an RFC 3339 time with offset, got '" +
                         until_text + "'");
    until = *t;
  }
  // One allow entry per destination: ports differ per --to.
  json allow = json::array();
  for (const auto& d : to) {
    auto rule = net::parse_destination(d);
    if (!rule)
      return usage_error("net allow: --to: expected CIDR, CIDR:PORT or [v6CIDR]:PORT, got '" + d +
                         "'");
    json entry = {{"to", rule->to[0].text()}};
    if (!rule->ports.empty()) {
      const auto& p = rule->ports[0];
      entry["ports"] = json::array(
          {p.first == p.last ? json(p.first)
                             : json(std::to_string(p.first) + "-" + std::to_string(p.last))});
    }
    entry["proto"] = !proto.empty() ? proto : (rule->ports.empty() ? "any" : "tcp");
    allow.push_back(entry);
  }
  net::SystemUserDirectory dir;
  for (const auto& u : users)
    if (!dir.uid_of(u))
      return std::fprintf(stderr, "seatlockctl: net allow: no such user '%s'\n", u.c_str()), 1;
  for (const auto& g : groups)
    if (!dir.members_of(g))
      return std::fprintf(stderr, "seatlockctl: net allow: no such group '%s'\n", g.c_str()), 1;

  json exception = {{"allow", allow}, {"until", format_rfc3339_ms(until)}, {"ticket", ticket}};
  if (!users.empty()) exception["users"] = users;
  if (!groups.empty()) exception["groups"] = groups;
  exception["comment"] =
      !comment.empty() ? comment
                       : "added by seatlockctl net allow on " + format_rfc3339_ms(now_millis());
  json doc = {{"network", {{"exceptions", json::array({exception})}}}};
  std::string safe_ticket;
  for (char c : ticket)
    safe_ticket += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  std::string name = "80-net-exception-" + safe_ticket + ".json";
  std::string text = "// " + exception["comment"].get<std::string>() + "\n" + doc.dump(2) + "\n";

  // Validate the directory as it will be, before anything is written.
  auto files = read_policy_dir(ctx.policy_dir);
  std::string shown = ctx.policy_dir.substr(ctx.policy_dir.find_last_of('/') + 1) + "/" + name;
  std::erase_if(files, [&](const PolicyFile& f) { return f.name == shown; });
  files.push_back({shown, text});
  std::sort(files.begin(), files.end(),
            [](const PolicyFile& a, const PolicyFile& b) { return a.name < b.name; });
  PolicyLoadOptions lo;
  lo.now = now_millis();
  PolicyLoadResult r = load_policy(files, lo);
  if (!r.policy) {
    for (const auto& e : r.errors) std::fprintf(stderr, "seatlockctl: %s\n", e.text().c_str());
    return 1;
  }
  std::string path = ctx.policy_dir + "/" + name;
  try {
    atomic_write(path, text, 0644);
  } catch (const AtomicWriteError& e) {
    return std::fprintf(stderr, "seatlockctl: %s\n", e.what()), 1;
  }
  std::printf("wrote %s (until %s)\n", path.c_str(), format_rfc3339_ms(until).c_str());
  if (no_reload) return 0;
  try {
    json res = control_call(ctx.socket_path, "reload");
    std::printf("policy %s in force\n", res.value("sha256", "").substr(0, 12).c_str());
  } catch (const ControlError& e) {
    std::fprintf(stderr, "seatlockctl: daemon rejected the policy: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "seatlockctl: daemon not reachable (%s); the file applies when seatlockd starts\n",
                 e.what());
  }
  return 0;
}

}  // namespace

int cmd_net(const CliContext& base, const Args& in) {
  Subcommand cmd = split_subcommand(base, in, "net");
  if (cmd.name.empty() || cmd.name == "help" || cmd.flags.has("help")) {
    const bool asked = !cmd.name.empty() || cmd.flags.has("help");
    std::fputs(kNetUsage, asked ? stdout : stderr);
    return asked ? 0 : 2;
  }
  const std::string& sub = cmd.name;
  if (sub == "status" || sub == "close" || sub == "open") {
    const CliContext ctx = parse_command(cmd.ctx, cmd.rest, "net " + sub).ctx;
    json s = control_call(ctx.socket_path, "net." + sub);
    if (ctx.json)
      std::cout << s.dump(2) << "\n";
    else
      print_status(s);
    return 0;
  }
  if (sub == "allow") return cmd_allow(cmd.ctx, cmd.rest);
  if (sub == "load-fallback") {
    const CliContext ctx = parse_command(cmd.ctx, cmd.rest, "net load-fallback").ctx;
    auto r = net::load_fallback(ctx.state_dir, ctx.policy_dir, now_millis());
    if (ctx.json) {
      std::cout << json{{"source", r.source},
                        {"mode", r.mode},
                        {"closed", r.closed},
                        {"base_elements", r.base_elements},
                        {"exception_elements", r.exception_elements}}
                       .dump()
                << "\n";
    } else {
      std::printf("fallback table loaded from %s: %s%s, %zu base + %zu exception elements\n",
                  r.source.c_str(), r.mode.empty() ? "?" : r.mode.c_str(),
                  r.closed ? ", closed" : "", r.base_elements, r.exception_elements);
    }
    return 0;
  }
  if (sub == "compile") {
    ArgSpec spec;
    spec.switches = {"fallback"};
    auto [ctx, args] = parse_command(cmd.ctx, cmd.rest, "net compile", spec);
    std::fputs(
        net::compile_policy_dir(ctx.state_dir, ctx.policy_dir, now_millis(), args.has("fallback"))
            .c_str(),
        stdout);
    return 0;
  }
  return usage_error("net: unknown command '" + sub + "'");
}

}  // namespace seatlock::cli
