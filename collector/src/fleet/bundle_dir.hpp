#pragma once
// Where `fleet publish` leaves signed bundles for `serve --bundles DIR` (docs/fleet.md):
//   DIR/version          highest version ever handed out (reserved before any bundle is written,
//                        so a crash mid-publish can never reuse a version)
//   DIR/published-<v>.ndjson  every seat's signed bundle of publish <v>, one wire document
//                        (bundle.hpp) a line: one file, so one fsync however many seats
//   DIR/current          version of the last complete publish: the commit point a running
//                        collector watches (bundle_watch.hpp); older published-* are removed
#include <cstdint>
#include <map>
#include <string>

namespace seatlock::collector::fleet_cli {

struct PublishedBundle {
  std::uint64_t version = 0;
  std::string document;  // the signed wire document, as served
};

class BundleDir {
 public:
  explicit BundleDir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // Creates DIR and DIR/seats when missing and takes an exclusive lock for one publish (held
  // until the object is destroyed); throws when another publish holds it.
  void lock_for_publish();
  ~BundleDir();

  std::uint64_t reserved_version() const;  // 0 when nothing was ever published
  std::uint64_t current_version() const;
  // Persists `v` as the highest version handed out (durably, before bundles carry it).
  void reserve(std::uint64_t v);
  // Writes every seat's bundle (seat -> document) durably, commits `v`, removes older ones.
  void publish(std::uint64_t v, const std::map<std::string, std::string>& bundles);

  // Every seat's bundle of the last complete publish (seat id -> version and document).
  std::map<std::string, PublishedBundle> read_all() const;

 private:
  std::string path_;
  int lock_fd_ = -1;
};

// Version of a wire document (0 when it is not one).
std::uint64_t bundle_version_of(const std::string& document);

}  // namespace seatlock::collector::fleet_cli
