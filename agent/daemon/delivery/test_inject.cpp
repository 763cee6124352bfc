// Test-only control command (enabled by SEATLOCK_TEST_EVENTS=1 in seatlockd's environment):
//   events.inject {"count":N, "kind":"test.synthetic", "severity":"info", "batch":100}
// records N synthetic events through the reporter's shared fields and the spool's group
// commit, `batch` per transaction. Used by the burst/crash and overflow tests.
#include <algorithm>

#include "daemon/service.hpp"
#include "os/base/log.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

void register_test_injection(DaemonContext& ctx, Spool& spool) {
  log_warning("SEATLOCK_TEST_EVENTS=1: control command events.inject is enabled (tests only)");
  ctx.control.add("events.inject", [&ctx, &spool](const nlohmann::json& args) {
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
      auto stored = spool.append_batch(std::move(drafts));
      if (!first) first = stored.front().seq;
      last = stored.back().seq;
    }
    return nlohmann::json{{"count", count}, {"first_seq", first}, {"last_seq", last}};
  });
}

}  // namespace seatlock
