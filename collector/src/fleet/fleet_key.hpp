#pragma once
// The fleet signing key on the collector host: a file holding the base64 of the raw 32-byte
// Ed25519 private key (mode 0600), and FILE.pub holding the public key seats pin in
// report.fleet_keys.
#include <string>

namespace seatlock::collector::fleet_cli {

struct FleetKey {
  std::string raw_private, raw_public;
};

// Writes FILE (0600, never over an existing file) and FILE.pub; returns the key.
FleetKey generate_fleet_key(const std::string& path);
// Reads FILE; throws std::runtime_error with the reason when it is not a fleet key.
FleetKey read_fleet_key(const std::string& path);

}  // namespace seatlock::collector::fleet_cli
