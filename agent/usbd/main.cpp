// seatlock-usbd: the USB lockdown as its own small root process (issue 18). Links libstdc++ and
// libc only (CMakeLists.txt checks), so its idle RSS stays a few MB.
#include <csignal>
#include <cstdio>
#include <exception>

#include "os/base/log.hpp"
#include "usbd/epoll_loop.hpp"
#include "usbd/sd_notify.hpp"
#include "usbd/usbd.hpp"

int main(int argc, char** argv) {
  using namespace seatlock;
  set_log_identifier("seatlock-usbd");
  const UsbdOptions options = parse_usbd_options(argc, argv);
  try {
    EpollLoop loop;
    std::unique_ptr<Usbd> usbd;
    LoopSignals signals(loop, [&](int signo) {
      if (signo == SIGHUP) {
        try {
          usbd->reload();
        } catch (const std::exception& e) {
          log_error(std::string("usbd: reload: ") + e.what());
        }
        return;
      }
      loop.stop();
    });
    usbd = std::make_unique<Usbd>(loop, options);
    notify_systemd("READY=1\nSTATUS=enforcing");
    loop.run();
    notify_systemd("STOPPING=1");
    usbd->stop();
    return 0;
  } catch (const std::exception& e) {
    log_error(e.what());
    return 1;
  }
}
