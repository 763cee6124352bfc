#include "fleet_publish.hpp"

#include <chrono>

#include "../args.hpp"
#include "../signing.hpp"
#include "bundle_dir.hpp"
#include "core/fleet/bundle.hpp"
#include "fleet_common.hpp"
#include "fleet_key.hpp"

namespace seatlock::collector::fleet_cli {

int fleet_publish(const ArgList& argv, UnixMillis now, std::ostream& out) {
  Args a(argv, {"tree", "key", "bundles", "expires"}, {});
  std::string expires_text = a.get("expires").value_or("14d");
  auto lifetime = parse_duration_ms(expires_text);
  if (!lifetime) throw UsageError("--expires: expected a duration such as 14d or 12h");
  FleetKey key = read_fleet_key(a.require("key"));
  auto started = std::chrono::steady_clock::now();

  auto plan = check_tree(a.require("tree"), now, out);
  if (!plan.errors.empty()) {
    out << plan.errors.size() << " error(s); nothing published\n";
    return 1;
  }
  return publish_checked(plan, key, a.require("bundles"), now, *lifetime, started, out);
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
