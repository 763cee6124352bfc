#include "os/base/event_loop.hpp"

#include <cstring>
#include <stdexcept>

#include "os/base/log.hpp"

namespace seatlock {

EventLoop open_default_event_loop() {
  sd_event* loop = nullptr;
  int r = sd_event_default(&loop);
  if (r < 0) throw std::runtime_error(std::string("cannot create event loop: ") + strerror(-r));
  return EventLoop(loop);
}

void describe_source(sd_event_source* source, const std::string& description) {
  int r = sd_event_source_set_description(source, description.c_str());
  if (r < 0) log_warning("sd-event: cannot name source " + description + ": " + strerror(-r));
}

EventSource add_io_source(sd_event* loop, int fd, std::uint32_t events,
                          sd_event_io_handler_t handler, void* userdata,
                          const std::string& description) {
  sd_event_source* s = nullptr;
  int r = sd_event_add_io(loop, &s, fd, events, handler, userdata);
  if (r < 0)
    throw std::runtime_error(description + ": cannot watch fd " + std::to_string(fd) + ": " +
                             strerror(-r));
  EventSource owned(s);
  describe_source(s, description);
  return owned;
}

OneShotTimer::OneShotTimer(sd_event* loop, clockid_t clock, std::uint64_t accuracy_usec,
                           std::string description, Handler on_fire)
    : loop_(loop),
      clock_(clock),
      accuracy_usec_(accuracy_usec),
      description_(std::move(description)),
      on_fire_(std::move(on_fire)) {}

int OneShotTimer::fail(const char* call, int r) {
  log_error(description_ + ": " + call + " failed: " + strerror(-r));
  disarm();
  return r;
}

int OneShotTimer::arm_at(std::uint64_t due_usec) {
  if (!source_) {
    sd_event_source* s = nullptr;
    int r = sd_event_add_time(loop_, &s, clock_, due_usec, accuracy_usec_, on_time, this);
    if (r < 0) return fail("sd_event_add_time", r);
    source_.reset(s);
    describe_source(s, description_);
  } else if (int r = sd_event_source_set_time(source_.get(), due_usec); r < 0) {
    return fail("sd_event_source_set_time", r);
  }
  if (int r = sd_event_source_set_enabled(source_.get(), SD_EVENT_ONESHOT); r < 0)
    return fail("sd_event_source_set_enabled", r);
  return 0;
}

int OneShotTimer::arm_in(std::uint64_t delay_usec) {
  std::uint64_t now = 0;
  // sd_event_now answers from the loop's cached time, or reads the clock before the first
  // iteration (r > 0); only a negative value is an error.
  if (int r = sd_event_now(loop_, clock_, &now); r < 0) return fail("sd_event_now", r);
  return arm_at(now + delay_usec);
}

int OneShotTimer::arm_in_unless_armed(std::uint64_t delay_usec) {
  return armed() ? 0 : arm_in(delay_usec);
}

void OneShotTimer::disarm() {
  if (source_) sd_event_source_set_enabled(source_.get(), SD_EVENT_OFF);
}

bool OneShotTimer::armed() const {
  int enabled = SD_EVENT_OFF;
  return source_ && sd_event_source_get_enabled(source_.get(), &enabled) >= 0 &&
         enabled != SD_EVENT_OFF;
}

int OneShotTimer::on_time(sd_event_source*, std::uint64_t usec, void* self) {
  auto* me = static_cast<OneShotTimer*>(self);
  // An exception must not unwind through sd-event's C frames; the loop keeps running.
  try {
    me->on_fire_(usec);
  } catch (const std::exception& e) {
    log_error(me->description_ + ": " + e.what());
  }
  return 0;
}

}  // namespace seatlock
