#pragma once
// Where seatlock-usbd's events wait for seatlockd, which stores them (seq, prev, spool) and sends
// them on. Bounded: when seatlockd stays away the oldest are dropped and counted, and the count is
// reported as a usb.events_dropped event when it comes back (never a silent loss).
#include <cstddef>
#include <cstdint>
#include <deque>

#include "core/event/sink.hpp"

namespace seatlock {

class EventQueue : public EventSink {
 public:
  explicit EventQueue(std::size_t capacity = 1024) : capacity_(capacity) {}

  // Queues the event (seq and prev stay unset: seatlockd assigns them) and logs one line.
  Event append(Event draft) override;
  // The oldest queued event (nullptr when none) and its removal, once it has been delivered.
  const Event* front() const { return queue_.empty() ? nullptr : &queue_.front(); }
  void pop() { queue_.pop_front(); }
  // What was dropped since the last reset_dropped().
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t dropped_violations() const { return dropped_violations_; }
  void reset_dropped() { dropped_ = dropped_violations_ = 0; }

  std::size_t size() const { return queue_.size(); }

 private:
  std::size_t capacity_;
  std::deque<Event> queue_;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_violations_ = 0;
};

}  // namespace seatlock
