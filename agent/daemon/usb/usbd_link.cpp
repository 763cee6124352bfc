#include "daemon/usb/usbd_link.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "os/base/clock.hpp"
#include "os/base/log.hpp"

#ifndef SEATLOCK_LIBEXEC_DIR
#define SEATLOCK_LIBEXEC_DIR "/usr/libexec/seatlock"
#endif

namespace seatlock {

using nlohmann::json;

std::string default_usbd_path() {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir.erase(dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
    std::string sibling = dir + "/seatlock-usbd";
    if (::access(sibling.c_str(), X_OK) == 0) return sibling;
  }
  return SEATLOCK_LIBEXEC_DIR "/seatlock-usbd";
}

UsbdLink::~UsbdLink() {
  drop();
  stop_child();
}

bool UsbdLink::try_connect() {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("usbd: socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (launch_.socket.size() >= sizeof addr.sun_path)
    throw std::runtime_error("usbd: " + launch_.socket + ": path too long");
  std::memcpy(addr.sun_path, launch_.socket.c_str(), launch_.socket.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

void UsbdLink::connect(int wait_ms) {
  if (fd_ >= 0 || try_connect()) return;
  if (!launch_.spawn) {
    const std::int64_t until =
        monotonic_millis() + (wait_ms < 0 ? launch_.connect_wait_ms : wait_ms);
    while (!try_connect()) {
      if (monotonic_millis() > until)
        throw std::runtime_error("usbd: nothing listens on " + launch_.socket +
                                 " (seatlock-usbd.service down?)");
      ::usleep(20'000);
    }
    return;
  }
  if (child_ > 0) stop_child();  // ours, but not answering: start afresh
  spawn();
  const std::int64_t deadline = monotonic_millis() + 10'000;
  while (!try_connect()) {
    int status = 0;
    if (::waitpid(child_, &status, WNOHANG) == child_) {
      child_ = -1;
      throw std::runtime_error("usbd: " + launch_.exe + " exited before it listened (status " +
                               std::to_string(status) + ")");
    }
    if (monotonic_millis() > deadline)
      throw std::runtime_error("usbd: " + launch_.exe + " did not listen on " + launch_.socket);
    ::usleep(2000);
  }
}

void UsbdLink::spawn() {
  std::vector<std::string> words = {launch_.exe};
  words.insert(words.end(), launch_.args.begin(), launch_.args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  // usbd started here is seatlockd's child, not a unit: without this it would tell systemd
  // READY=1/STOPPING=1 on seatlockd's notify socket (and, with NotifyAccess=all, be taken
  // for seatlockd). Built before fork(): the child only execs.
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0 && std::strncmp(*e, "WATCHDOG_", 9) != 0)
      envp.push_back(*e);
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("usbd: fork: ") + std::strerror(errno));
  if (pid == 0) {
    // The child must not outlive a seatlockd that started it (a test's killed daemon); usbd
    // stops on SIGTERM with the seat locked.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0 || ::getppid() != parent) ::_exit(127);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  child_ = pid;
  log_info("usb: started " + launch_.exe + " (pid " + std::to_string(pid) + ")");
}

void UsbdLink::stop_child() {
  if (child_ <= 0) return;
  ::kill(child_, SIGTERM);
  int status = 0;
  while (::waitpid(child_, &status, 0) < 0 && errno == EINTR) {
  }
  child_ = -1;
}

void UsbdLink::drop() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

bool UsbdLink::receive(json& out, int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  const int r = ::poll(&p, 1, timeout_ms);
  if (r <= 0) {
    out = json();
    return r == 0;  // a timeout is not a closed connection
  }
  std::string buf(256 * 1024, '\0');
  const ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    out = json();
    return true;
  }
  if (n <= 0) {
    drop();
    return false;
  }
  out = json::parse(buf.data(), buf.data() + n, nullptr, false);
  return true;
}

json UsbdLink::request(const std::string& op, json fields, int timeout_ms) {
  if (fd_ < 0) connect();
  fields["op"] = op;
  fields["id"] = ++next_id_;
  const std::string text = fields.dump();
  if (::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
    drop();
    throw std::runtime_error("usbd: " + op + ": " + std::strerror(errno));
  }
  const std::int64_t deadline = monotonic_millis() + timeout_ms;
  for (;;) {
    const auto left = static_cast<int>(std::max<std::int64_t>(deadline - monotonic_millis(), 0));
    json m;
    if (!receive(m, left)) throw std::runtime_error("usbd: " + op + ": connection closed");
    if (m.is_null()) {
      if (left == 0) {
        drop();
        throw std::runtime_error("usbd: " + op + ": no answer");
      }
      continue;
    }
    if (m.contains("event")) {
      events_.push_back(m["event"]);
      continue;
    }
    if (m.value("id", std::uint64_t{0}) != next_id_) continue;  // a late answer to a timed-out one
    if (m.value("ok", false)) return m.value("result", json());
    throw std::runtime_error("usbd: " + op + ": " + m.value("error", std::string("refused")));
  }
}

bool UsbdLink::drain() {
  while (fd_ >= 0) {
    json m;
    if (!receive(m, 0)) return false;
    if (m.is_null()) return true;
    if (m.contains("event")) events_.push_back(m["event"]);
  }
  return false;
}

std::vector<json> UsbdLink::take_events() {
  std::vector<json> out;
  out.swap(events_);
  return out;
}

}  // namespace seatlock
