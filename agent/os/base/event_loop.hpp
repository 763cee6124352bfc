#pragma once
// Owning handles for sd-event: the loop and its sources are released on every path (return,
// exception, destruction of the service that holds them), and every source carries a
// description (sd_event_source_set_description) so the loop's own debug output names it.
// Errors from sd-event are never dropped: adding a source throws, arming a timer logs and
// returns the negative errno.
#include <systemd/sd-event.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>

namespace seatlock {

struct EventLoopUnref {
  void operator()(sd_event* loop) const { sd_event_unref(loop); }
};
// The loop; released (sd_event_unref) when the handle goes.
using EventLoop = std::unique_ptr<sd_event, EventLoopUnref>;

struct EventSourceUnref {
  // Disabled first: a source another reference keeps alive must not fire into a freed owner.
  void operator()(sd_event_source* s) const { sd_event_source_disable_unref(s); }
};
// One source; disabled and released when the handle goes.
using EventSource = std::unique_ptr<sd_event_source, EventSourceUnref>;

// The thread's default loop. Throws std::runtime_error when sd-event cannot make one.
EventLoop open_default_event_loop();

// Watches `fd` for `events` (EPOLLIN...). Throws std::runtime_error "<description>: cannot
// watch fd N: <strerror>" on failure.
EventSource add_io_source(sd_event* loop, int fd, std::uint32_t events,
                          sd_event_io_handler_t handler, void* userdata,
                          const std::string& description);

// Sets the description of a source made elsewhere (a failure is only logged: it is a debug aid).
void describe_source(sd_event_source* source, const std::string& description);

// A one-shot timer that can be armed again and again: the source is added on the first arm and
// re-armed (set_time + ONESHOT) after that, which is what every periodic or deadline timer of
// the daemon needs. `on_fire` gets the time the timer was due (usec on its clock); it may arm
// the timer again. Not movable: the loop holds a pointer to it.
class OneShotTimer {
 public:
  using Handler = std::function<void(std::uint64_t due_usec)>;
  OneShotTimer(sd_event* loop, clockid_t clock, std::uint64_t accuracy_usec,
               std::string description, Handler on_fire);
  OneShotTimer(const OneShotTimer&) = delete;
  OneShotTimer& operator=(const OneShotTimer&) = delete;

  // Fire once at `due_usec` (absolute, on the timer's clock). Returns 0, or the negative errno
  // of the sd-event call that failed (logged with the description); the timer is then disarmed.
  int arm_at(std::uint64_t due_usec);
  // Fire once `delay_usec` after the loop's current time (sd_event_now on the timer's clock).
  int arm_in(std::uint64_t delay_usec);
  // Arms only when not armed already (a retry that must not be pushed back by new failures).
  int arm_in_unless_armed(std::uint64_t delay_usec);
  void disarm();
  bool armed() const;
  const std::string& description() const { return description_; }

 private:
  static int on_time(sd_event_source* s, std::uint64_t usec, void* self);
  int fail(const char* call, int r);

  sd_event* loop_;
  clockid_t clock_;
  std::uint64_t accuracy_usec_;
  std::string description_;
  Handler on_fire_;
  EventSource source_;
};

}  // namespace seatlock
