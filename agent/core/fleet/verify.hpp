#pragma once
// Seat-side checks of a fleet bundle, before anything applies (docs/fleet.md "Trust model"):
// signed by a key pinned in the seat's local policy (report.fleet_keys), for this seat, newer
// than every bundle seen before (a replayed or older one is refused), not expired; then its
// files (fleet-only rules, scope.hpp) merged with the seat's local files and validated as a
// whole with the seat's own validator. Pure: the caller reads files, keeps the highest version.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fleet/bundle.hpp"
#include "core/policy/loader.hpp"

namespace seatlock::fleet {

enum class Refusal {
  none,
  malformed,      // not a bundle document
  untrusted_key,  // signer not pinned (or no key pinned at all)
  bad_signature,  // pinned key, but the signature does not cover these bytes (tampered)
  wrong_seat,     // made for another seat
  replay,         // version equal to the highest seen
  rollback,       // version lower than the highest seen
  expired,
  invalid_policy,  // the files fail validation with the seat's local files, or set local-only keys
};
const char* to_string(Refusal r);  // "bad_signature", ... (the `reason` of policy.rejected)

struct SeatTrust {
  std::vector<std::string> fleet_keys;  // base64 raw Ed25519 (Policy::report.fleet_keys)
  std::string seat_id;
  std::uint64_t highest_seen = 0;  // persisted by the caller
  UnixMillis now = 0;
};

struct BundleVerdict {
  Refusal refusal = Refusal::none;
  std::string reason;                      // for people: what was wrong
  std::optional<FleetBundle> bundle;       // set once the document parsed and verified
  std::vector<PolicyDiagnostic> errors;    // invalid_policy: every problem, file:line:column
  std::vector<PolicyDiagnostic> warnings;  // of the merge that was accepted
  std::optional<Policy> policy;            // the seat's new effective policy (refusal == none)
  bool ok() const { return refusal == Refusal::none; }
};

// Signature, seat, version and expiry only.
BundleVerdict verify_bundle(std::string_view text, const SeatTrust& trust);

// The seat's merge order: the shipped default (local files whose name starts with "00-") <
// the bundle's files (named "fleet/<name>") < every other local file. Local files come in name
// order, as read from the policy directory.
std::vector<PolicyFile> seat_merge_order(const std::vector<PolicyFile>& local,
                                         const std::vector<PolicyFile>& fleet);

// verify_bundle, then the fleet-only rules and a full load_policy of seat_merge_order.
BundleVerdict accept_bundle(std::string_view text, const SeatTrust& trust,
                            const std::vector<PolicyFile>& local, const PolicyLoadOptions& options);

}  // namespace seatlock::fleet
