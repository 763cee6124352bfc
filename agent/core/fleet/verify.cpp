#include "core/fleet/verify.hpp"

#include <algorithm>

#include "core/firmware/baseline.hpp"
#include "core/fleet/scope.hpp"
#include "core/util/digest.hpp"

namespace seatlock::fleet {

using nlohmann::json;

const char* to_string(Refusal r) {
  switch (r) {
    case Refusal::none:
      return "none";
    case Refusal::malformed:
      return "malformed";
    case Refusal::untrusted_key:
      return "untrusted_key";
    case Refusal::bad_signature:
      return "bad_signature";
    case Refusal::wrong_seat:
      return "wrong_seat";
    case Refusal::replay:
      return "replay";
    case Refusal::rollback:
      return "rollback";
    case Refusal::expired:
      return "expired";
    case Refusal::invalid_policy:
      return "invalid_policy";
  }
  return "unknown";
}

namespace {

BundleVerdict refuse(Refusal r, std::string reason) {
  BundleVerdict v;
  v.refusal = r;
  v.reason = std::move(reason);
  return v;
}

std::string base_name(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

}  // namespace

BundleVerdict verify_bundle(std::string_view text, const SeatTrust& trust) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return refuse(Refusal::malformed, std::string("not JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("bundle") || !doc["signature"].is_string() ||
      !doc["key"].is_string())
    return refuse(Refusal::malformed, "expected {\"bundle\", \"signature\", \"key\"}");
  const std::string key_b64 = doc["key"].get<std::string>();
  if (trust.fleet_keys.empty())
    return refuse(Refusal::untrusted_key, "no fleet key is pinned (report.fleet_keys)");
  if (std::find(trust.fleet_keys.begin(), trust.fleet_keys.end(), key_b64) ==
      trust.fleet_keys.end())
    return refuse(Refusal::untrusted_key,
                  "signed by " + key_b64 + ", a key this seat does not pin");
  std::string key, sig;
  if (!base64_decode(key_b64, key) || !base64_decode(doc["signature"].get<std::string>(), sig) ||
      !firmware::ed25519_verify(key, bundle_signed_bytes(doc["bundle"]), sig))
    return refuse(Refusal::bad_signature,
                  "the signature does not match the bundle (altered after signing?)");
  std::string why;
  auto bundle = bundle_from_json(doc["bundle"], why);
  if (!bundle) return refuse(Refusal::malformed, why);
  if (bundle->seat != trust.seat_id)
    return refuse(Refusal::wrong_seat,
                  "bundle for seat " + bundle->seat + ", this seat is " + trust.seat_id);
  const std::string version = "version " + std::to_string(bundle->version);
  const std::string seen = "highest seen " + std::to_string(trust.highest_seen);
  if (bundle->version == trust.highest_seen)
    return refuse(Refusal::replay, version + " was already applied (" + seen + ")");
  if (bundle->version < trust.highest_seen)
    return refuse(Refusal::rollback, version + " is older than the " + seen);
  if (bundle->expires <= trust.now)
    return refuse(Refusal::expired, version + " expired at " + format_rfc3339_ms(bundle->expires));
  BundleVerdict v;
  v.bundle = std::move(bundle);
  return v;
}

std::vector<PolicyFile> seat_merge_order(const std::vector<PolicyFile>& local,
                                         const std::vector<PolicyFile>& fleet) {
  std::vector<PolicyFile> out;
  for (const auto& f : local)
    if (base_name(f.name).rfind("00-", 0) == 0) out.push_back(f);
  for (const auto& f : fleet) out.push_back({"fleet/" + f.name, f.text});
  for (const auto& f : local)
    if (base_name(f.name).rfind("00-", 0) != 0) out.push_back(f);
  return out;
}

BundleVerdict accept_bundle(std::string_view text, const SeatTrust& trust,
                            const std::vector<PolicyFile>& local,
                            const PolicyLoadOptions& options) {
  BundleVerdict v = verify_bundle(text, trust);
  if (!v.ok()) return v;
  std::vector<PolicyFile> fleet_files;
  for (const auto& f : v.bundle->files) fleet_files.push_back({"fleet/" + f.name, f.text});
  for (const auto& f : fleet_files) check_fleet_scope(f, v.errors);
  PolicyLoadResult r = load_policy(seat_merge_order(local, v.bundle->files), options);
  v.errors.insert(v.errors.end(), r.errors.begin(), r.errors.end());
  v.warnings = std::move(r.warnings);
  if (!v.errors.empty()) {
    v.refusal = Refusal::invalid_policy;
    v.reason = "version " + std::to_string(v.bundle->version) + ": " +
               std::to_string(v.errors.size()) + " error(s), first: " + v.errors.front().text();
    return v;
  }
  v.policy = std::move(r.policy);
  return v;
}

}  // namespace seatlock::fleet
