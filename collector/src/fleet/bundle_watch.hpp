#pragma once
// `serve --bundles DIR`: answers GET /v1/policy from the bundles `fleet publish` committed to
// DIR (bundle_dir.hpp) and wakes the held polls of every seat whose bundle changed.
//
// How a running collector learns of a publish: publish writes the bundles, then renames
// DIR/current last; a thread here waits on inotify for that rename (with a 1 s re-check of
// `current`, so a missed or unsupported inotify event only delays it). No PID files or signals:
// publish needs no access to the server process, works whether or not one runs, and a
// collector that starts later simply loads the committed state.
#include <memory>
#include <string>

namespace seatlock::collector {

class PolicyPoll;

class BundleWatch {
 public:
  // Loads DIR (which may not exist yet), installs the lookup and starts watching.
  BundleWatch(const std::string& dir, PolicyPoll& poll);
  ~BundleWatch();  // stops the thread (the lookup keeps the last index)
  BundleWatch(const BundleWatch&) = delete;
  BundleWatch& operator=(const BundleWatch&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seatlock::collector
