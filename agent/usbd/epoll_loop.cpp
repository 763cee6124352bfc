#include "usbd/epoll_loop.hpp"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace seatlock {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

EpollLoop::EpollLoop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epfd_ < 0) fail("epoll_create1");
}

EpollLoop::~EpollLoop() {
  ::close(epfd_);
}

void EpollLoop::add(int fd, std::uint32_t events, Handler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl add");
  handlers_[fd] = std::make_shared<Handler>(std::move(handler));
}

void EpollLoop::remove(int fd) {
  (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

void EpollLoop::run() {
  running_ = true;
  epoll_event evs[16];
  while (running_) {
    const int n = ::epoll_wait(epfd_, evs, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < n && running_; ++i) {
      auto it = handlers_.find(evs[i].data.fd);
      if (it == handlers_.end()) continue;  // removed by an earlier handler of this round
      const auto handler = it->second;      // keeps it alive if it removes itself
      (*handler)(evs[i].events);
    }
  }
}

LoopTimer::LoopTimer(EpollLoop& loop, clockid_t clock, std::function<void()> on_fire)
    : loop_(loop),
      fd_(::timerfd_create(clock, TFD_NONBLOCK | TFD_CLOEXEC)),
      on_fire_(std::move(on_fire)) {
  if (fd_ < 0) fail("timerfd_create");
  loop_.add(fd_, EPOLLIN, [this](std::uint32_t) {
    std::uint64_t expirations = 0;
    if (::read(fd_, &expirations, sizeof expirations) != sizeof expirations) return;
    on_fire_();
  });
}

LoopTimer::~LoopTimer() {
  loop_.remove(fd_);
  ::close(fd_);
}

void LoopTimer::arm_at(std::uint64_t usec) {
  itimerspec its{};
  its.it_value.tv_sec = static_cast<time_t>(usec / 1'000'000);
  its.it_value.tv_nsec = static_cast<long>(usec % 1'000'000) * 1000;
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;  // 0 disarms
  if (::timerfd_settime(fd_, TFD_TIMER_ABSTIME, &its, nullptr) < 0) fail("timerfd_settime");
}

void LoopTimer::arm_in(std::uint64_t usec) {
  itimerspec its{};
  its.it_value.tv_sec = static_cast<time_t>(usec / 1'000'000);
  its.it_value.tv_nsec = static_cast<long>(usec % 1'000'000) * 1000;
  if (usec == 0) its.it_value.tv_nsec = 1;  // an all-zero value would disarm
  if (::timerfd_settime(fd_, 0, &its, nullptr) < 0) fail("timerfd_settime");
}

void LoopTimer::disarm() {
  itimerspec its{};
  (void)::timerfd_settime(fd_, 0, &its, nullptr);
}

LoopSignals::LoopSignals(EpollLoop& loop, std::function<void(int)> on_signal) : loop_(loop) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) fail("sigprocmask");
  fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) fail("signalfd");
  loop_.add(fd_, EPOLLIN, [this, on_signal = std::move(on_signal)](std::uint32_t) {
    signalfd_siginfo si{};
    while (::read(fd_, &si, sizeof si) == sizeof si) on_signal(static_cast<int>(si.ssi_signo));
  });
}

LoopSignals::~LoopSignals() {
  loop_.remove(fd_);
  ::close(fd_);
}

}  // namespace seatlock
