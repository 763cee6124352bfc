#include "daemon/loop_hooks.hpp"

#include <signal.h>
#include <sys/inotify.h>
#include <systemd/sd-daemon.h>

#include <memory>
#include <stdexcept>

#include "os/base/log.hpp"

namespace seatlock {
namespace {

struct SignalHooks {
  std::function<void()> on_stop, on_reload;
};

int on_signal(sd_event_source*, const signalfd_siginfo* si, void* userdata) {
  auto* hooks = static_cast<SignalHooks*>(userdata);
  if (si->ssi_signo == SIGHUP)
    hooks->on_reload();
  else
    hooks->on_stop();
  return 0;
}

struct DirWatch {
  sd_event* loop;
  std::function<void()> on_change;
  sd_event_source* timer = nullptr;
};

int on_settled(sd_event_source*, uint64_t, void* userdata) {
  static_cast<DirWatch*>(userdata)->on_change();
  return 0;
}

int on_inotify(sd_event_source*, const inotify_event*, void* userdata) {
  auto* w = static_cast<DirWatch*>(userdata);
  uint64_t now;
  sd_event_now(w->loop, CLOCK_MONOTONIC, &now);
  if (!w->timer) {
    sd_event_add_time(w->loop, &w->timer, CLOCK_MONOTONIC, now + 200'000, 10'000, on_settled, w);
  } else {
    sd_event_source_set_time(w->timer, now + 200'000);
  }
  sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
  return 0;
}

}  // namespace

void block_daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

void install_signal_handlers(sd_event* loop, std::function<void()> on_stop,
                             std::function<void()> on_reload) {
  // Lives as long as the process; the loop holds raw pointers to it.
  static SignalHooks hooks;
  hooks = {std::move(on_stop), std::move(on_reload)};
  block_daemon_signals();
  for (int s : {SIGTERM, SIGINT, SIGHUP})
    if (sd_event_add_signal(loop, nullptr, s, on_signal, &hooks) < 0)
      throw std::runtime_error("cannot install signal handler");
}

void watch_policy_directory(sd_event* loop, const std::string& dir,
                            std::function<void()> on_change) {
  static DirWatch watch{nullptr, {}};
  watch.loop = loop;
  watch.on_change = std::move(on_change);
  int rc = sd_event_add_inotify(
      loop, nullptr, dir.c_str(),
      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB, on_inotify,
      &watch);
  if (rc < 0)
    log_warning("cannot watch " + dir + " for changes; reload with SIGHUP or 'seatlockctl reload'");
}

void notify_ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}
void notify_status(const std::string& status) {
  sd_notifyf(0, "STATUS=%s", status.c_str());
}
void notify_stopping() {
  sd_notify(0, "STOPPING=1");
}

}  // namespace seatlock
