// seatlock-collector fleet check | diff | publish | keygen (docs/fleet.md).
#include <chrono>
#include <nlohmann/json.hpp>

#include "../commands.hpp"
#include "bundle_dir.hpp"
#include "core/fleet/bundle.hpp"
#include "core/fleet/diff.hpp"
#include "core/util/args.hpp"
#include "core/util/digest.hpp"
#include "fleet_common.hpp"
#include "fleet_key.hpp"
#include "fleet_publish.hpp"
#include "fleet_status.hpp"

namespace seatlock::collector {

namespace {

using namespace fleet_cli;

UnixMillis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int fleet_check(const ArgList& argv, std::ostream& out) {
  ArgParser a(argv, {"tree"}, {});
  auto plan = check_tree(a.require("tree"), now_ms(), out);
  if (!plan.errors.empty()) {
    out << plan.errors.size() << " error(s); the tree cannot be published\n";
    return 1;
  }
  out << "fleet tree OK: " << plan.seats.size() << " seats, " << plan.map.groups.size()
      << " groups\n";
  return 0;
}

int fleet_diff(const ArgList& argv, std::ostream& out) {
  ArgParser a(argv, {"tree", "against"}, {"json"});
  UnixMillis now = now_ms();
  auto plan = check_tree(a.require("tree"), now, out);
  if (!plan.errors.empty()) {
    out << plan.errors.size() << " error(s); fix the tree first\n";
    return 1;
  }
  std::map<std::string, std::vector<PolicyFile>> tree_files, published_files;
  for (const auto& s : plan.seats) tree_files[s.seat] = s.files;
  for (const auto& [seat, b] : BundleDir(a.require("against")).read_all()) {
    std::string why;
    auto doc = nlohmann::json::parse(b.document, nullptr, false);
    auto bundle = doc.is_object() && doc.contains("bundle")
                      ? seatlock::fleet::bundle_from_json(doc["bundle"], why)
                      : std::nullopt;
    if (!bundle) throw std::runtime_error("published bundle of " + seat + " unreadable: " + why);
    published_files[seat] = bundle->files;
  }
  auto changes = seatlock::fleet::diff_fleet(effective_by_seat(published_files, now),
                                             effective_by_seat(tree_files, now));
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& c : changes)
      j.push_back({{"seat", c.seat}, {"kind", c.kind}, {"lines", c.lines}});
    out << j.dump(2) << "\n";
    return 0;
  }
  for (const auto& c : changes) {
    out << "seat " << c.seat << ": " << c.kind << "\n";
    for (const auto& l : c.lines) out << "  " << l << "\n";
  }
  out << changes.size() << " of " << plan.seats.size() << " seats change\n";
  return 0;
}

int fleet_keygen(const ArgList& argv, std::ostream& out) {
  ArgParser a(argv, {"out"}, {});
  std::string path = a.require("out");
  FleetKey k = generate_fleet_key(path);
  out << "fleet key written to " << path << " (keep it secret); public key in " << path
      << ".pub\npin it on seats in a local policy file:\n  \"report\": {\"fleet_keys\": [\""
      << base64_encode(k.raw_public) << "\"]}\n";
  return 0;
}

}  // namespace

int cmd_fleet(const ArgList& args, std::ostream& out) {
  if (args.empty()) throw UsageError("expected check, diff, publish, keygen or status");
  ArgList rest(args.begin() + 1, args.end());
  const std::string& sub = args[0];
  if (sub == "check") return fleet_check(rest, out);
  if (sub == "diff") return fleet_diff(rest, out);
  if (sub == "publish") return fleet_cli::fleet_publish(rest, now_ms(), out);
  if (sub == "keygen") return fleet_keygen(rest, out);
  if (sub == "status") return fleet_cli::fleet_status(rest, now_ms(), out);
  throw UsageError("unknown fleet command \"" + sub + "\" (check, diff, publish, keygen, status)");
}

}  // namespace seatlock::collector
