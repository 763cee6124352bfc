// Test-only control command, compiled into seatlockd-test only (never into the installed
// seatlockd; see agent/daemon/CMakeLists.txt):
//   events.inject {"count":N, "kind":"test.synthetic", "severity":"info", "batch":100}
// records N synthetic events through the reporter's shared fields and the daemon's event store
// (the spool's group commit, or the in-memory backlog while the spool cannot store), `batch`
// per call. Used by the burst/crash, overflow and disk-full tests.
#include <algorithm>

#include "daemon/event_store.hpp"
#include "daemon/service.hpp"
#include "os/base/log.hpp"

namespace seatlock {

void register_test_injection(DaemonContext& ctx) {
  log_warning("seatlockd-test: control command events.inject is enabled (test build)");
  ctx.control.add("events.inject", [&ctx](const nlohmann::json& args) {
    auto count = args.value("count", 1ULL);
    auto batch = std::max<std::uint64_t>(1, args.value("batch", 100ULL));
    std::string kind = args.value("kind", "test.synthetic");
    std::string severity = args.value("severity", "info");
    if (kind.find('.') == std::string::npos)
      throw ControlError("kind must look like <area>.<what>");
    std::uint64_t first = 0, last = 0;
    for (std::uint64_t done = 0; done < count;) {
      std::vector<Event> drafts;
      for (std::uint64_t i = 0; i < batch && done < count; ++i, ++done) {
        Event e;
        e.kind = kind;
        e.severity = severity;
        e.outcome = "reported";
        e.details = {{"n", done}};
        drafts.push_back(ctx.reporter.prepare(std::move(e)));
      }
      // seq 0: the spool could not store them yet (they wait in the backlog).
      auto stored = ctx.events.append_batch(std::move(drafts));
      if (!first) first = stored.front().seq;
      last = stored.back().seq;
    }
    return nlohmann::json{{"count", count}, {"first_seq", first}, {"last_seq", last}};
  });
}

}  // namespace seatlock
