#pragma once
// The daemon's own loop plumbing: signals, the policy-directory watch, sd_notify.
#include <systemd/sd-event.h>

#include <array>
#include <functional>
#include <string>

#include "os/base/event_loop.hpp"

namespace seatlock {

// Blocks SIGTERM, SIGINT and SIGHUP so they stay pending until SignalHandlers exist.
void block_daemon_signals();

// SIGTERM/SIGINT call on_stop; SIGHUP calls on_reload, for as long as this object lives.
// Blocks those signals first. Throws std::runtime_error when a handler cannot be installed.
class SignalHandlers {
 public:
  SignalHandlers(sd_event* loop, std::function<void()> on_stop, std::function<void()> on_reload);
  SignalHandlers(const SignalHandlers&) = delete;
  SignalHandlers& operator=(const SignalHandlers&) = delete;

 private:
  static int on_signal(sd_event_source*, const signalfd_siginfo* si, void* self);
  std::function<void()> on_stop_, on_reload_;
  std::array<EventSource, 3> sources_;
};

// Watches `dir` with inotify and calls on_change once things settle (200 ms after the last
// change), so an editor's save-rename-chmod sequence gives one reload, not three. A directory
// that cannot be watched is logged (reloads then come from SIGHUP or seatlockctl).
class PolicyDirectoryWatch {
 public:
  PolicyDirectoryWatch(sd_event* loop, const std::string& dir, std::function<void()> on_change);
  PolicyDirectoryWatch(const PolicyDirectoryWatch&) = delete;
  PolicyDirectoryWatch& operator=(const PolicyDirectoryWatch&) = delete;

 private:
  static int on_inotify(sd_event_source*, const struct inotify_event*, void* self);
  std::function<void()> on_change_;
  OneShotTimer settle_;
  EventSource inotify_;
};

// sd_notify wrappers; no-ops when not under systemd.
void notify_ready(const std::string& status);
void notify_status(const std::string& status);
void notify_stopping();

}  // namespace seatlock
