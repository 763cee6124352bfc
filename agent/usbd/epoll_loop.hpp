#pragma once
// seatlock-usbd's loop: plain epoll, timerfds and a signalfd (no sd-event, so no libsystemd).
// Single-threaded; handlers run on the loop and may add or remove sources, themselves included.
#include <time.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace seatlock {

class EpollLoop {
 public:
  using Handler = std::function<void(std::uint32_t events)>;
  EpollLoop();  // throws std::runtime_error
  ~EpollLoop();
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  void add(int fd, std::uint32_t events, Handler handler);  // throws std::runtime_error
  void remove(int fd);
  // Dispatches until stop(). Handlers that throw are the caller's bug: the exception escapes.
  void run();
  void stop() { running_ = false; }

 private:
  int epfd_ = -1;
  bool running_ = false;
  std::map<int, std::shared_ptr<Handler>> handlers_;
};

// A one-shot timer on `clock` (CLOCK_REALTIME for wall-clock deadlines such as exception expiry,
// CLOCK_MONOTONIC for delays).
class LoopTimer {
 public:
  LoopTimer(EpollLoop& loop, clockid_t clock, std::function<void()> on_fire);
  ~LoopTimer();
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;

  void arm_at(std::uint64_t usec);  // absolute time on the timer's clock
  void arm_in(std::uint64_t usec);  // from now (0 fires at once)
  void disarm();

 private:
  EpollLoop& loop_;
  int fd_ = -1;
  std::function<void()> on_fire_;
};

// SIGTERM/SIGINT/SIGHUP as loop events: blocks them for the process and reads them from a
// signalfd. Create it before any thread starts.
class LoopSignals {
 public:
  LoopSignals(EpollLoop& loop, std::function<void(int signo)> on_signal);
  ~LoopSignals();
  LoopSignals(const LoopSignals&) = delete;
  LoopSignals& operator=(const LoopSignals&) = delete;

 private:
  EpollLoop& loop_;
  int fd_ = -1;
};

}  // namespace seatlock
