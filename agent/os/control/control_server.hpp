#pragma once
// The root-only control socket. Protocol: the client sends one JSON line
//   {"cmd":"usb.list","args":{...}}
// and reads one JSON line back: {"ok":true,"result":...} or {"ok":false,"error":"..."}.
// The peer's uid is checked with SO_PEERCRED (uid 0 only), not only the file mode.
#include <systemd/sd-event.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "os/base/event_loop.hpp"

namespace seatlock {

// Throw from a handler to answer {"ok":false,"error":what()}.
struct ControlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using ControlHandler = std::function<nlohmann::json(const nlohmann::json& args)>;

class ControlServer {
 public:
  // Binds and listens on `socket_path` (creating its directory 0755, the socket 0600) and
  // serves on `loop`. allowed_uid is 0 in production; tests may pass their own uid.
  ControlServer(sd_event* loop, std::string socket_path, uid_t allowed_uid = 0);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void add(const std::string& cmd, ControlHandler handler);
  // Runs after every handler, before its reply is written (seatlockd: waits until the events a
  // command recorded are stored, so a client reading the spool after the reply sees them).
  void before_reply(std::function<void()> hook) { before_reply_ = std::move(hook); }
  const std::string& path() const { return path_; }

 private:
  static int on_accept(sd_event_source* s, int fd, uint32_t revents, void* self);
  void serve_one(int client_fd);

  std::string path_;
  uid_t allowed_uid_;
  int listen_fd_ = -1;
  EventSource source_;
  std::map<std::string, ControlHandler> handlers_;
  std::function<void()> before_reply_;
};

// Client side (seatlockctl). Returns "result"; throws ControlError with the server's error, or
// std::runtime_error when the daemon cannot be reached.
nlohmann::json control_call(const std::string& socket_path, const std::string& cmd,
                            const nlohmann::json& args = nlohmann::json::object(),
                            int timeout_ms = 10'000);

}  // namespace seatlock
