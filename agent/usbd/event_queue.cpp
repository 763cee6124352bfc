#include "usbd/event_queue.hpp"

#include "os/base/log.hpp"

namespace seatlock {

Event EventQueue::append(Event draft) {
  // The journal keeps a trace even of events that are later dropped from the queue.
  log_info("event " + draft.kind + " " + draft.outcome + " " + draft.details.dump());
  if (queue_.size() >= capacity_) {
    if (is_violation(queue_.front())) ++dropped_violations_;
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(draft);
  return draft;
}

}  // namespace seatlock
