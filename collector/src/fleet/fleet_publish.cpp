#include "fleet_publish.hpp"

#include <chrono>

#include "../signing.hpp"
#include "bundle_dir.hpp"
#include "central_action.hpp"
#include "central_config.hpp"
#include "core/fleet/bundle.hpp"
#include "core/util/args.hpp"
#include "fleet_common.hpp"
#include "fleet_key.hpp"
#include "tree_reader.hpp"

namespace seatlock::collector::fleet_cli {

int fleet_publish(const ArgList& argv, UnixMillis now, std::ostream& out) {
  // The same flags, config file and packaged defaults as the central actions
  // (central_config.hpp); the store is opened only when there are expired grants to record.
  ArgParser a(argv, central_action_option_names(), {});
  CentralSetup setup = resolve_central_setup(a);
  auto lifetime = parse_duration_ms(setup.expires);
  if (!lifetime || *lifetime <= 0)
    throw UsageError("--expires: expected a duration such as 14d or 12h");
  FleetKey key = read_fleet_key(setup.key);
  auto started = std::chrono::steady_clock::now();

  auto tree = read_fleet_tree(setup.tree);
  if (!expired_grant_prunes(tree, now).empty()) {
    // Prune, check, publish and record `fleet.grant_expired` + `fleet.published` exactly as a
    // central action does before its own publish.
    CentralAction act(a, now, out);
    return act.publish() ? 0 : 1;
  }
  auto plan = check_fleet_tree(tree, now, out);
  if (!plan.errors.empty()) {
    out << plan.errors.size() << " error(s); nothing published\n";
    return 1;
  }
  return publish_checked(plan, key, setup.bundles, now, *lifetime, started, out);
}

int publish_checked(const seatlock::fleet::FleetPlan& plan, const FleetKey& key,
                    const std::string& bundles, UnixMillis now, std::int64_t lifetime,
                    std::chrono::steady_clock::time_point started, std::ostream& out) {
  BundleDir dir(bundles);
  dir.lock_for_publish();
  std::uint64_t version = std::max(dir.reserved_version(), dir.current_version()) + 1;
  dir.reserve(version);
  std::map<std::string, std::string> documents;
  for (const auto& s : plan.seats) {
    seatlock::fleet::FleetBundle b{s.seat, version, now, now + lifetime, s.files};
    std::string sig = ed25519_sign(
        key.raw_private, seatlock::fleet::bundle_signed_bytes(seatlock::fleet::bundle_json(b)));
    documents[s.seat] = seatlock::fleet::bundle_document(b, sig, key.raw_public);
  }
  dir.publish(version, documents);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "published version " << version << " for " << documents.size() << " seats to "
      << dir.path() << ", expires " << format_rfc3339_ms(now + lifetime) << " (" << seconds
      << " s)\n";
  return 0;
}

}  // namespace seatlock::collector::fleet_cli
