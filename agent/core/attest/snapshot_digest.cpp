#include "core/attest/snapshot_digest.hpp"

#include "core/event/event.hpp"
#include "core/util/digest.hpp"

namespace seatlock::attest {

using nlohmann::json;

namespace {
json raw_var(const std::optional<std::string>& v) {
  return v ? json(hex_encode(*v)) : json(nullptr);
}
}  // namespace

json snapshot_json(const firmware::Snapshot& s) {
  return {{"format", kSnapshotFormat},
          {"dmi", firmware::identity_json(s)},
          {"settings", firmware::settings_json(s)},
          {"efivars",
           {{"SecureBoot", raw_var(s.secure_boot_var)}, {"SetupMode", raw_var(s.setup_mode_var)}}},
          {"read_errors", s.read_errors}};
}

std::string snapshot_digest_hex(const json& snapshot) {
  return sha256_hex(canonical_bytes(snapshot));
}

}  // namespace seatlock::attest
