#include "daemon/loop_hooks.hpp"

#include <signal.h>
#include <sys/inotify.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <stdexcept>

#include "os/base/log.hpp"

namespace seatlock {

namespace {
constexpr std::uint64_t kSettleUsec = 200'000;  // quiet time after the last directory change
constexpr int kDaemonSignals[] = {SIGTERM, SIGINT, SIGHUP};
}  // namespace

void block_daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kDaemonSignals) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

SignalHandlers::SignalHandlers(sd_event* loop, std::function<void()> on_stop,
                               std::function<void()> on_reload)
    : on_stop_(std::move(on_stop)), on_reload_(std::move(on_reload)) {
  block_daemon_signals();
  std::size_t i = 0;
  for (int s : kDaemonSignals) {
    sd_event_source* src = nullptr;
    if (int r = sd_event_add_signal(loop, &src, s, on_signal, this); r < 0)
      throw std::runtime_error(std::string("cannot install the ") + strsignal(s) +
                               " handler: " + strerror(-r));
    sources_[i++].reset(src);
    describe_source(src, std::string("signal ") + sigabbrev_np(s));
  }
}

int SignalHandlers::on_signal(sd_event_source*, const signalfd_siginfo* si, void* self) {
  auto* me = static_cast<SignalHandlers*>(self);
  if (si->ssi_signo == SIGHUP)
    me->on_reload_();
  else
    me->on_stop_();
  return 0;
}

PolicyDirectoryWatch::PolicyDirectoryWatch(sd_event* loop, const std::string& dir,
                                           std::function<void()> on_change)
    : on_change_(std::move(on_change)),
      settle_(loop, CLOCK_MONOTONIC, 10'000, "policy directory: settle",
              [this](std::uint64_t) { on_change_(); }) {
  sd_event_source* src = nullptr;
  int r = sd_event_add_inotify(
      loop, &src, dir.c_str(),
      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB, on_inotify,
      this);
  if (r < 0) {
    log_warning("cannot watch " + dir + " for changes (" + strerror(-r) +
                "); reload with SIGHUP or 'seatlockctl reload'");
    return;
  }
  inotify_.reset(src);
  describe_source(src, "policy directory " + dir);
}

int PolicyDirectoryWatch::on_inotify(sd_event_source*, const struct inotify_event*, void* self) {
  // Each change pushes the deadline back; a failure to arm is logged by the timer.
  (void)static_cast<PolicyDirectoryWatch*>(self)->settle_.arm_in(kSettleUsec);
  return 0;
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
