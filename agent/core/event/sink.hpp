#pragma once
// Where producers hand their events. Producers build an Event with id, time, kind, severity,
// outcome, details (use os/events/reporter.hpp to fill seat, user and policy); the sink assigns
// seq and prev and makes the event durable before returning it.
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
};

}  // namespace seatlock
