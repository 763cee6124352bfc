#pragma once
// Where producers hand their events. Producers build an Event with id, time, kind, severity,
// outcome, details (use os/events/reporter.hpp to fill seat, user and policy); the sink assigns
// seq and prev. append() makes the event durable before returning it; post() hands it over
// without waiting (for producers that do not need the seq), and flush() waits for those.
#include <vector>

#include "core/event/event.hpp"

namespace seatlock {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Durable when it returns. Throws std::runtime_error when the event could not be stored.
  virtual Event append(Event draft) = 0;
  // Same as append() for each, in one durable step where the sink can (group commit).
  virtual std::vector<Event> append_batch(std::vector<Event> drafts) {
    std::vector<Event> out;
    out.reserve(drafts.size());
    for (auto& d : drafts) out.push_back(append(std::move(d)));
    return out;
  }
  // Hands the event over without waiting for the disk: it is stored after everything this thread
  // appended or posted before, and durable at the latest when flush() returns (or the sink is
  // destroyed). Sinks that cannot do better store it at once.
  virtual void post(Event draft) { append(std::move(draft)); }
  // Returns once every event posted before the call is durable (or, in a sink that keeps
  // events in memory while storing fails, waits there).
  virtual void flush() {}
};

}  // namespace seatlock
