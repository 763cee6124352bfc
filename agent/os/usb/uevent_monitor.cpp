#include "os/usb/uevent_monitor.hpp"

#include <libudev.h>

#include <stdexcept>

namespace seatlock {

UeventMonitor::UeventMonitor() {
  udev_ = udev_new();
  if (!udev_) throw std::runtime_error("udev_new failed");
  monitor_ = udev_monitor_new_from_netlink(udev_, "kernel");
  if (!monitor_) {
    udev_unref(udev_);
    throw std::runtime_error("cannot open the kernel uevent netlink socket");
  }
  udev_monitor_filter_add_match_subsystem_devtype(monitor_, "usb", nullptr);
  udev_monitor_filter_add_match_subsystem_devtype(monitor_, "block", nullptr);
  // A plug storm must not overflow the socket (ENOBUFS would lose events).
  udev_monitor_set_receive_buffer_size(monitor_, 8 * 1024 * 1024);
  if (int rc = udev_monitor_enable_receiving(monitor_); rc < 0) {
    udev_monitor_unref(monitor_);
    udev_unref(udev_);
    throw std::runtime_error("cannot listen for kernel uevents (error " + std::to_string(-rc) +
                             ")");
  }
}

UeventMonitor::~UeventMonitor() {
  if (monitor_) udev_monitor_unref(monitor_);
  if (udev_) udev_unref(udev_);
}

int UeventMonitor::fd() const {
  return udev_monitor_get_fd(monitor_);
}

std::optional<Uevent> UeventMonitor::receive() {
  udev_device* d = udev_monitor_receive_device(monitor_);
  if (!d) return std::nullopt;
  auto s = [](const char* v) { return std::string(v ? v : ""); };
  Uevent e{s(udev_device_get_action(d)), s(udev_device_get_subsystem(d)),
           s(udev_device_get_devtype(d)), s(udev_device_get_syspath(d)),
           s(udev_device_get_sysname(d))};
  udev_device_unref(d);
  return e;
}

}  // namespace seatlock
