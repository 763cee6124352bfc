#include "os/usb/uevent_monitor.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "os/base/log.hpp"

namespace seatlock {

namespace {

constexpr unsigned kKernelGroup = 1;  // the kernel's uevent multicast group (udevd's is 2)
// libudev's monitor_netlink_header: "libudev\0", magic (big endian), header size, offset and
// length of the KEY=VALUE\0 properties, then filter hashes we do not need.
constexpr std::size_t kLibudevHeader = 40;
constexpr std::uint32_t kLibudevMagic = 0xfeedcafe;

std::uint32_t u32_at(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::optional<Uevent> parse_uevent(const char* data, std::size_t len) {
  std::size_t begin = 0, end = len;
  if (len >= kLibudevHeader && std::memcmp(data, "libudev", 8) == 0) {
    if (__builtin_bswap32(u32_at(data + 8)) != kLibudevMagic) return std::nullopt;
    const std::uint32_t off = u32_at(data + 16), plen = u32_at(data + 20);
    if (off < kLibudevHeader || off > len || plen > len - off) return std::nullopt;
    begin = off;
    end = off + plen;
  } else {
    // "action@/devpath\0" then the properties
    const void* nul = std::memchr(data, '\0', len);
    if (!nul) return std::nullopt;
    const std::string_view head(data, static_cast<const char*>(nul) - data);
    if (head.find("@/") == std::string_view::npos) return std::nullopt;
    begin = head.size() + 1;
  }
  Uevent ev;
  std::string_view devpath;
  for (std::size_t at = begin; at < end;) {
    const void* nul = std::memchr(data + at, '\0', end - at);
    const std::size_t n =
        nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - data) - at : end - at;
    const std::string_view kv(data + at, n);
    at += n + 1;
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "ACTION")
      ev.action = value;
    else if (key == "DEVPATH")
      devpath = value;
    else if (key == "SUBSYSTEM")
      ev.subsystem = value;
    else if (key == "DEVTYPE")
      ev.devtype = value;
    else if (key == "PRODUCT")
      ev.product = value;
    else if (key == "TYPE")
      ev.type = value;
    else if (key == "INTERFACE")
      ev.interface = value;
  }
  if (ev.action.empty() || devpath.empty() || devpath[0] != '/' || ev.subsystem.empty())
    return std::nullopt;
  ev.syspath = "/sys";
  ev.syspath += devpath;
  ev.sysname = devpath.substr(devpath.rfind('/') + 1);
  for (auto& c : ev.sysname)
    if (c == '!') c = '/';  // as the kernel and libudev spell "cciss!c0d0"
  return ev;
}

UeventMonitor::UeventMonitor() {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
  if (fd_ < 0)
    throw std::runtime_error(std::string("cannot open the kernel uevent netlink socket: ") +
                             std::strerror(errno));
  auto fail = [this](const char* what) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("kernel uevent socket: ") + what + ": " +
                             std::strerror(err));
  };
  const int on = 1;
  if (::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) fail("SO_PASSCRED");
  // A plug storm must not overflow the socket (ENOBUFS loses events). FORCE needs
  // CAP_NET_ADMIN; without it the kernel's cap on SO_RCVBUF applies.
  const int size = 8 * 1024 * 1024;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = kKernelGroup;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    fail("cannot listen for kernel uevents");
}

UeventMonitor::~UeventMonitor() {
  if (fd_ >= 0) ::close(fd_);
}

bool UeventMonitor::take_overflow() {
  const bool o = overflow_;
  overflow_ = false;
  return o;
}

std::optional<Uevent> UeventMonitor::receive() {
  char buf[8192];  // the kernel caps a uevent at UEVENT_BUFFER_SIZE (2048) plus its header
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  for (;;) {
    sockaddr_nl sender{};
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_name = &sender;
    msg.msg_namelen = sizeof sender;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        log_warning("usb: kernel uevent socket overflowed; devices will be re-read");
        overflow_ = true;
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        log_error(std::string("usb: reading kernel uevents: ") + std::strerror(errno));
      return std::nullopt;
    }
    if (msg.msg_flags & MSG_TRUNC) {
      log_warning("usb: a uevent larger than 8 KiB was dropped");
      continue;
    }
    // Only the kernel sends with port id 0 and uid 0 (as libudev checks).
    if (msg.msg_namelen < sizeof(sa_family_t) + sizeof(unsigned short) + sizeof(__u32) ||
        sender.nl_pid != 0)
      continue;
    const cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS) continue;
    ucred cred;
    std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
    if (cred.uid != 0) continue;
    auto ev = parse_uevent(buf, static_cast<std::size_t>(n));
    if (!ev || (ev->subsystem != "usb" && ev->subsystem != "block")) continue;
    return ev;
  }
}

}  // namespace seatlock
