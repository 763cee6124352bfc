#pragma once
// A seat's fleet bundle and its wire form (docs/fleet.md):
//   {"bundle": {"format": "seatlock.fleet-bundle/1", "seat": "cc-0001", "version": 7,
//               "issued": "<RFC 3339>", "expires": "<RFC 3339>",
//               "files": [{"name": "all/10-base.json", "text": "..."}, ...]},
//    "signature": "<base64 Ed25519 over bundle_signed_bytes>",
//    "key": "<base64 raw Ed25519 public key that signed>"}
// The signature covers a domain tag and the canonical bytes of "bundle" (keys sorted, no
// white space; core/event canonical_bytes), so formatting of the document does not matter and
// a bundle signature can never pass as another seatlock signature (firmware baselines).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/policy/loader.hpp"
#include "core/util/time.hpp"

namespace seatlock::fleet {

inline constexpr const char* kBundleFormat = "seatlock.fleet-bundle/1";

struct FleetBundle {
  std::string seat;
  std::uint64_t version = 0;
  UnixMillis issued = 0;
  UnixMillis expires = 0;
  std::vector<PolicyFile> files;  // in merge order
};

nlohmann::json bundle_json(const FleetBundle& b);
// What the signature covers: "seatlock.fleet-bundle/1\n" + canonical_bytes(bundle_json(b)).
std::string bundle_signed_bytes(const nlohmann::json& bundle);

// The wire document (one line of JSON).
std::string bundle_document(const FleetBundle& b, const std::string& raw_signature,
                            const std::string& raw_public_key);

// Reads the "bundle" object; nullopt with `why` set when its shape is wrong.
std::optional<FleetBundle> bundle_from_json(const nlohmann::json& j, std::string& why);

}  // namespace seatlock::fleet
