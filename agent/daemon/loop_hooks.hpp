#pragma once
// The daemon's own loop plumbing: signals, the policy-directory watch, sd_notify.
#include <systemd/sd-event.h>

#include <functional>
#include <string>

namespace seatlock {

// Blocks SIGTERM, SIGINT and SIGHUP so they stay pending until install_signal_handlers().
void block_daemon_signals();

// SIGTERM/SIGINT call on_stop; SIGHUP calls on_reload. Blocks those signals first.
void install_signal_handlers(sd_event* loop, std::function<void()> on_stop,
                             std::function<void()> on_reload);

// Watches `dir` with inotify and calls on_change once things settle (200 ms after the last
// change), so an editor's save-rename-chmod sequence gives one reload, not three.
void watch_policy_directory(sd_event* loop, const std::string& dir,
                            std::function<void()> on_change);

// sd_notify wrappers; no-ops when not under systemd.
void notify_ready(const std::string& status);
void notify_status(const std::string& status);
void notify_stopping();

}  // namespace seatlock
