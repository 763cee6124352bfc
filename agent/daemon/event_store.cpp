// seatlockd records every event into the SQLite spool at <state_dir>/spool.db. The bound
// (report.spool_max) is applied by the delivery service once the policy is known.
#include "daemon/event_store.hpp"

#include "daemon/delivery/spool_handle.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

namespace {
Spool* g_spool = nullptr;

// Forwards to the spool and keeps the process-wide handle valid while it lives.
class DaemonSpool : public Spool {
 public:
  explicit DaemonSpool(const std::string& path) : Spool(path) { g_spool = this; }
  ~DaemonSpool() override { g_spool = nullptr; }
};
}  // namespace

Spool* daemon_spool() {
  return g_spool;
}

std::unique_ptr<EventSink> make_event_sink(const DaemonOptions& options) {
  return std::make_unique<DaemonSpool>(options.state_dir + "/spool.db");
}

}  // namespace seatlock
