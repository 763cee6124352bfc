#pragma once
// What a seat keeps of the fleet across restarts (docs/fleet.md "On the seat"), in
// <state_dir>/fleet/:
//   bundle.json      the signed document of the bundle in force, exactly as received (it is
//                    verified again at start, so an edited copy is refused, not applied)
//   highest-version  the highest bundle version ever applied: rollback and replay are refused
//                    after a restart too
// Both are written to a temp file, fsync'd, renamed over the old one, and the directory fsync'd.
#include <cstdint>
#include <string>

#include "core/util/time.hpp"

namespace seatlock {

class FleetStore {
 public:
  explicit FleetStore(const std::string& state_dir);

  // "" when no bundle was ever applied.
  std::string bundle() const;
  // The highest version applied (0: none). Never below the stored bundle's own version, so a
  // crash between the two writes cannot lower it.
  std::uint64_t highest_version(std::uint64_t stored_bundle_version) const;
  // Throws std::runtime_error with the path and errno text when it cannot be made durable.
  void save(const std::string& document, std::uint64_t version);
  // When the stored bundle was written, i.e. applied (0 when there is none).
  UnixMillis saved_at() const;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace seatlock
