// seatlock-collector net close|open (--seat ID | --group NAME | --all) [--until TIME]
//   --ticket REF [--by NAME]: the closure is a fleet policy file (<scope>/95-net-closed.json,
//   docs/fleet.md "Actions from the center"), published at once and recorded.
#include <chrono>
#include <nlohmann/json.hpp>

#include "../commands.hpp"
#include "central_action.hpp"
#include "central_scope.hpp"

namespace seatlock::collector {

namespace {

using namespace fleet_cli;

UnixMillis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string list_seats(const std::vector<std::string>& seats, std::size_t shown = 5) {
  std::string s;
  for (std::size_t i = 0; i < seats.size() && i < shown; ++i) s += (i ? ", " : "") + seats[i];
  if (seats.size() > shown) s += " and " + std::to_string(seats.size() - shown) + " more";
  return s;
}

std::string ticket_of_closure(const std::optional<std::string>& text) {
  if (!text) return "";
  auto j = nlohmann::json::parse(*text, nullptr, false, true);
  auto p = nlohmann::json::json_pointer("/network/closed/ticket");
  return j.is_object() && j.contains(p) && j[p].is_string() ? j[p].get<std::string>() : "";
}

// Seats of `seats` that another closure file (not `except`) still closes, with that file.
nlohmann::json still_closed(const CentralAction& act, const std::vector<std::string>& seats,
                            const std::string& except) {
  std::set<std::string> wanted(seats.begin(), seats.end());
  nlohmann::json out = nlohmann::json::object();
  for (const auto& rel : act.files_named(kClosureFile)) {
    if (rel == except) continue;
    for (const auto& s : act.seats_with_file(rel))
      if (wanted.count(s)) out[rel].push_back(s);
  }
  return out;
}

int run(const std::string& sub, const ArgList& argv, std::ostream& out) {
  auto opts = central_action_option_names();
  opts.insert({"seat", "group", "until", "ticket"});
  ArgParser a(argv, opts, {"all"});
  std::string ticket = checked_ticket(a);
  UnixMillis now = now_ms();
  std::optional<UnixMillis> until;
  if (auto u = a.get("until")) {
    if (sub == "open") throw UsageError("--until is for net close (when the seats reopen)");
    until = until_from(*u, now);
  }
  CentralAction act(a, now, out);
  Scope scope = resolve_scope(a, act, true);
  const std::string rel = scope.dir + "/" + kClosureFile;
  auto existing = act.edit().text_of(rel);

  audit::CollectorEventInput in;
  in.actor = act.setup().actor;
  in.seats = scope.seats;
  in.details = {{"scope", scope.describe()}, {"file", rel}, {"ticket", ticket}};

  if (sub == "close") {
    nlohmann::json closed = {
        {"ticket", ticket}, {"by", act.setup().actor}, {"since", format_time(now)}};
    if (until) closed["until"] = format_time(*until);
    act.edit().write(rel, nlohmann::json{{"network", {{"closed", closed}}}}.dump(2) + "\n");
    if (existing)
      out << "replacing the closure of " << scope.describe() << " (ticket "
          << ticket_of_closure(existing) << ")\n";
    auto version = act.publish();
    if (!version) return 1;
    in.kind = "fleet.net_closed";
    in.severity = "medium";
    in.outcome = "applied";
    in.details["since"] = closed["since"];
    if (until) in.details["until"] = closed["until"];
    if (existing) in.details["replaced_ticket"] = ticket_of_closure(existing);
    act.record(in);
    out << "internet closed for " << scope.describe() << " (" << scope.seats.size() << " seat"
        << (scope.seats.size() == 1 ? "" : "s") << ": " << list_seats(scope.seats) << ")"
        << (until ? " until " + format_time(*until) : std::string(" until `net open`"))
        << ", version " << *version << ", ticket " << ticket << "\n";
    return 0;
  }

  if (!existing) {
    out << "error: " << scope.describe() << " has no closure (no " << rel << ")";
    auto other = still_closed(act, scope.seats, rel);
    for (const auto& [file, seats] : other.items())
      out << "; " << seats.size() << " of its seats are closed by " << file;
    out << "\nnothing changed\n";
    return 1;
  }
  act.edit().remove(rel);
  auto version = act.publish();
  if (!version) return 1;
  auto other = still_closed(act, scope.seats, rel);
  in.kind = "fleet.net_opened";
  in.severity = "info";
  in.outcome = "applied";
  in.details["closed_ticket"] = ticket_of_closure(existing);
  if (!other.empty()) in.details["still_closed"] = other;
  act.record(in);
  out << "internet opened for " << scope.describe() << " (" << scope.seats.size() << " seat"
      << (scope.seats.size() == 1 ? "" : "s") << "), version " << *version << ", ticket " << ticket
      << "\n";
  for (const auto& [file, seats] : other.items())
    out << "note: " << seats.size() << " of these seats stay closed by " << file << ": "
        << list_seats(seats.get<std::vector<std::string>>()) << "\n";
  return 0;
}

}  // namespace

int cmd_net(const ArgList& args, std::ostream& out) {
  if (args.empty() || (args[0] != "close" && args[0] != "open"))
    throw UsageError("expected net close or net open");
  return run(args[0], ArgList(args.begin() + 1, args.end()), out);
}

}  // namespace seatlock::collector
