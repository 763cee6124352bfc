// seatlock-collector grant usb | grant net | revoke: dated exceptions as files of the fleet tree
// (<scope>/85-grant-usb-<ticket>.json, <scope>/85-grant-net-<ticket>.json; docs/fleet.md
// "Actions from the center"), published at once and recorded. Seats remove them on expiry by
// their own timer; central actions prune expired grant files before each publish.
#include <chrono>
#include <nlohmann/json.hpp>

#include "../commands.hpp"
#include "central_action.hpp"
#include "central_scope.hpp"
#include "core/policy/cidr.hpp"
#include "core/policy/formats.hpp"

namespace seatlock::collector {

namespace {

using namespace fleet_cli;
namespace pf = seatlock::policy_format;
using nlohmann::json;

UnixMillis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// Takes every "--name V" / "--name=V" out of argv (a flag that may be repeated; values may also
// be comma-separated lists).
std::vector<std::string> take_repeated(ArgList& argv, const std::string& name) {
  std::vector<std::string> values;
  ArgList rest;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--" + name) {
      if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
      for (auto& v : split_commas(argv[++i])) values.push_back(v);
    } else if (argv[i].rfind("--" + name + "=", 0) == 0) {
      for (auto& v : split_commas(argv[i].substr(name.size() + 3))) values.push_back(v);
    } else {
      rest.push_back(argv[i]);
    }
  }
  argv = rest;
  return values;
}

void check_flag(const std::string& flag, const std::string& problem) {
  if (!problem.empty()) throw UsageError("--" + flag + ": " + problem);
}

std::string comment_for(const CentralAction& act) {
  return "granted by " + act.setup().actor + " at " + format_time(act.now()) +
         " with seatlock-collector";
}

// Adds `entry` to <section>.exceptions of the grant file `rel` (a new file, or one the same
// ticket already has at that scope).
void add_entry(CentralAction& act, const std::string& rel, const char* section, json entry) {
  json doc = json::object();
  if (auto text = act.edit().text_of(rel)) {
    doc = json::parse(*text, nullptr, false, true);
    if (!doc.is_object()) throw std::runtime_error(rel + ": not a JSON object; fix it by hand");
  }
  json& list = doc[section]["exceptions"];
  if (list.is_null()) list = json::array();
  // The same device (or the same people and destinations) twice under one ticket would be a
  // conflict for the seat's validator whatever the terms: say so in the words of this command.
  auto identity = [](json e) {
    for (const char* k : {"until", "comment", "read_only", "ticket"}) e.erase(k);
    return e;
  };
  for (const auto& e : list)
    if (identity(e) == identity(entry))
      throw std::runtime_error("already granted in " + rel + " (until " + e.value("until", "?") +
                               "): " + identity(e).dump() +
                               "; revoke the ticket first to change its terms");
  list.push_back(std::move(entry));
  act.edit().write(rel, doc.dump(2) + "\n");
}

int finish_grant(CentralAction& act, const Scope& scope, const std::string& rel,
                 const std::string& type, const json& entry, std::ostream& out) {
  auto version = act.publish();
  if (!version) return 1;
  audit::CollectorEventInput in;
  in.kind = "fleet.grant_added";
  in.severity = "info";
  in.outcome = "applied";
  in.actor = act.setup().actor;
  in.seats = scope.seats;
  in.details = {{"type", type},   {"scope", scope.describe()}, {"file", rel},
                {"grant", entry}, {"ticket", entry["ticket"]}, {"until", entry["until"]}};
  act.record(in);
  out << "granted " << type << " exception to " << scope.describe() << " (" << scope.seats.size()
      << " seat" << (scope.seats.size() == 1 ? "" : "s") << ") until "
      << entry["until"].get<std::string>() << ": " << rel << ", version " << *version << ", ticket "
      << entry["ticket"].get<std::string>() << "\n";
  return 0;
}

int grant_usb(const ArgList& argv, std::ostream& out) {
  auto opts = central_action_option_names();
  opts.insert({"seat", "group", "vid", "pid", "serial", "until", "ticket"});
  ArgParser a(argv, opts, {"read-only"});
  if (a.get("group")) throw UsageError("grant usb is for one seat: --seat ID");
  std::string ticket = checked_ticket(a);
  std::string vid = a.require("vid"), pid = a.require("pid");
  check_flag("vid", pf::check_hex4(vid, "vendor id"));
  check_flag("pid", pf::check_hex4(pid, "product id"));
  UnixMillis now = now_ms();
  UnixMillis until = until_from(a.require("until"), now);
  CentralAction act(a, now, out);
  Scope scope = resolve_scope(a, act, false);
  json entry = {{"vid", vid}, {"pid", pid}};
  if (auto s = a.get("serial")) {
    if (s->empty()) throw UsageError("--serial: expected the device's serial string");
    entry["serial"] = *s;
  }
  if (a.has("read-only")) entry["read_only"] = true;
  entry["until"] = format_time(until);
  entry["ticket"] = ticket;
  entry["comment"] = comment_for(act);
  std::string rel = scope.dir + "/" + kGrantPrefix + "usb-" + ticket + ".json";
  add_entry(act, rel, "usb", entry);
  return finish_grant(act, scope, rel, "usb", entry, out);
}

int grant_net(ArgList argv, std::ostream& out) {
  auto users = take_repeated(argv, "user");
  auto groups = take_repeated(argv, "usergroup");
  auto opts = central_action_option_names();
  opts.insert({"seat", "group", "to", "ports", "until", "ticket"});
  ArgParser a(argv, opts, {});
  std::string ticket = checked_ticket(a);
  if (users.empty() && groups.empty())
    throw UsageError("give who the exception is for: --user NAME and/or --usergroup GROUP");
  for (const auto& u : users) check_flag("user", pf::check_posix_name(u, "user"));
  for (const auto& g : groups) check_flag("usergroup", pf::check_posix_name(g, "group"));
  json to = json::array();
  for (const auto& t : split_commas(a.require("to"))) {
    check_flag("to", parse_cidr(t).error);
    to.push_back(t);
  }
  json allow = {{"to", to.size() == 1 ? to[0] : to}};
  if (auto p = a.get("ports")) {
    json ports = json::array();
    for (const auto& text : split_commas(*p)) {
      bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      json port = digits && text.size() <= 5 ? json(std::stoi(text)) : json(text);
      check_flag("ports", pf::check_port(port));
      ports.push_back(port);
    }
    allow["ports"] = ports;
  }
  UnixMillis now = now_ms();
  UnixMillis until = until_from(a.require("until"), now);
  CentralAction act(a, now, out);
  Scope scope = resolve_scope(a, act, false);
  json entry = json::object();
  if (!users.empty()) entry["users"] = users;
  if (!groups.empty()) entry["groups"] = groups;
  entry["allow"] = json::array({allow});
  entry["until"] = format_time(until);
  entry["ticket"] = ticket;
  entry["comment"] = comment_for(act);
  std::string rel = scope.dir + "/" + kGrantPrefix + "net-" + ticket + ".json";
  add_entry(act, rel, "network", entry);
  return finish_grant(act, scope, rel, "net", entry, out);
}

}  // namespace

int cmd_grant(const ArgList& args, std::ostream& out) {
  if (args.empty() || (args[0] != "usb" && args[0] != "net"))
    throw UsageError("expected grant usb or grant net");
  ArgList rest(args.begin() + 1, args.end());
  return args[0] == "usb" ? grant_usb(rest, out) : grant_net(rest, out);
}

int cmd_revoke(const ArgList& argv, std::ostream& out) {
  auto opts = central_action_option_names();
  opts.insert("ticket");
  ArgParser a(argv, opts, {});
  std::string ticket = checked_ticket(a);
  UnixMillis now = now_ms();
  CentralAction act(a, now, out);
  std::vector<std::string> files;
  for (const char* type : {"usb-", "net-"})
    for (const auto& rel : act.files_named(std::string(kGrantPrefix) + type + ticket + ".json"))
      files.push_back(rel);
  if (files.empty()) {
    out << "error: no grant with ticket " << ticket << " in " << act.setup().tree << " (no "
        << kGrantPrefix << "usb-" << ticket << ".json or " << kGrantPrefix << "net-" << ticket
        << ".json)\nnothing changed\n";
    return 1;
  }
  std::set<std::string> seats;
  json grants = json::array();
  for (const auto& rel : files) {
    for (const auto& s : act.seats_with_file(rel)) seats.insert(s);
    auto doc = json::parse(act.edit().text_of(rel).value_or(""), nullptr, false, true);
    for (const char* section : {"usb", "network"})
      if (doc.is_object() && doc.contains(section) && doc[section].contains("exceptions"))
        for (const auto& e : doc[section]["exceptions"]) grants.push_back(e);
    act.edit().remove(rel);
  }
  auto version = act.publish();
  if (!version) return 1;
  audit::CollectorEventInput in;
  in.kind = "fleet.grant_revoked";
  in.severity = "info";
  in.outcome = "applied";
  in.actor = act.setup().actor;
  in.seats.assign(seats.begin(), seats.end());
  in.details = {{"ticket", ticket}, {"files", files}, {"grants", grants}};
  act.record(in);
  out << "revoked ticket " << ticket << " (" << files.size() << " file"
      << (files.size() == 1 ? "" : "s") << ", " << seats.size() << " seat"
      << (seats.size() == 1 ? "" : "s") << "), version " << *version << "\n";
  for (const auto& f : files) out << "  removed " << f << "\n";
  return 0;
}

}  // namespace seatlock::collector
