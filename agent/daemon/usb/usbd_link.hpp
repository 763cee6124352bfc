#pragma once
// seatlockd's end of the channel to seatlock-usbd (docs/usbd.md "Channel"): connects to
// usbd's socket, and when nothing answers starts usbd as a child and waits for it. Requests are
// synchronous (usbd answers from its loop in microseconds); events that arrive meanwhile are kept
// for the caller.
#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seatlock {

struct UsbdLaunch {
  std::string socket;             // usbd's channel
  std::string exe;                // the seatlock-usbd binary
  std::vector<std::string> args;  // its flags (without argv[0])
  // False when a unit runs usbd (seatlock-usbd.service): only connect, waiting up to
  // connect_wait_ms for it (it may be restarting), and never start a second one.
  bool spawn = true;
  int connect_wait_ms = 10'000;
};

class UsbdLink {
 public:
  explicit UsbdLink(UsbdLaunch launch) : launch_(std::move(launch)) {}
  ~UsbdLink();
  UsbdLink(const UsbdLink&) = delete;
  UsbdLink& operator=(const UsbdLink&) = delete;

  // Connects, starting usbd first when nothing answers (or waiting for it, when !spawn).
  // wait_ms < 0: launch.connect_wait_ms. Throws std::runtime_error.
  void connect(int wait_ms = -1);
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends {"op", ...fields} and returns the result; throws std::runtime_error with usbd's error,
  // or when there is no answer within `timeout_ms` (the connection is then dropped).
  nlohmann::json request(const std::string& op, nlohmann::json fields = nlohmann::json::object(),
                         int timeout_ms = 5000);
  // Reads what is queued without blocking. False when the connection closed (then dropped).
  bool drain();
  // Events received so far ({"event": ...}'s value), oldest first; cleared.
  std::vector<nlohmann::json> take_events();
  // Stops the usbd this link started (SIGTERM, wait); nothing when usbd was already running.
  void stop_child();
  bool started_child() const { return child_ > 0; }

 private:
  bool try_connect();
  void spawn();
  void drop();
  // One message; nullopt-like null json when none within timeout_ms (-1: block).
  bool receive(nlohmann::json& out, int timeout_ms);

  UsbdLaunch launch_;
  int fd_ = -1;
  pid_t child_ = -1;
  std::uint64_t next_id_ = 0;
  std::vector<nlohmann::json> events_;
};

// The default binary: next to this executable (the build tree), else libexec/seatlock.
std::string default_usbd_path();

}  // namespace seatlock
