#pragma once
// seatlock-usbd: the kernel uevent monitor, the enforcer, its two timers (exception expiry,
// report gathering) and the channel to seatlockd, on one epoll loop.
#include <memory>
#include <nlohmann/json.hpp>

#include "os/events/reporter.hpp"
#include "usbd/channel_server.hpp"
#include "usbd/epoll_loop.hpp"
#include "usbd/event_queue.hpp"
#include "usbd/usb_enforcer.hpp"
#include "usbd/usbd_options.hpp"

namespace seatlock {

class Usbd {
 public:
  // Listens for uevents, puts the start-up policy in force (the sweep) and opens the channel.
  // Throws std::runtime_error when the seat cannot be locked.
  Usbd(EpollLoop& loop, UsbdOptions options);

  // Throws std::runtime_error when usbd would refuse to enforce `policy`.
  static void check(const Policy& policy);
  // Puts `policy` in force (after check()); when it came from seatlockd it is kept for the
  // next start.
  void apply(const Policy& policy, bool handed);
  // Re-reads the start-up sources (SIGHUP): for use without seatlockd.
  void reload();
  // The seat stays locked: stop listening, emit what is gathered, never restore defaults.
  void stop();

  nlohmann::json status() const;

 private:
  void on_uevents();
  void on_expiry();
  void arm_expiry();
  void arm_flush();
  void deliver_events();
  void on_connect();
  nlohmann::json on_request(const nlohmann::json& request);
  // The request's "policy" document loaded and checked (the "policy" and "check" ops).
  static Policy accept(const nlohmann::json& request);

  EpollLoop& loop_;
  UsbdOptions opt_;
  EventQueue queue_;
  Reporter reporter_;
  UsbEnforcer enforcer_;
  std::unique_ptr<UeventMonitor> monitor_;
  LoopTimer expiry_;
  LoopTimer flush_;
  std::unique_ptr<ChannelServer> channel_;
  std::string policy_source_;
  std::string policy_sha256_;
};

}  // namespace seatlock
