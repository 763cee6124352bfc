#pragma once
// A netlink socket of the calling thread for one protocol, opened on first use and kept (the
// guard's workers look up askers one after another); reset() after any error, so a reply left
// half-read is never taken for the next request's. Used by os/dns/socket_owner_*.
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>

namespace seatlock::dns {

class NetlinkSocket {
 public:
  explicit NetlinkSocket(int protocol) : protocol_(protocol) {}
  ~NetlinkSocket() { reset(); }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  // The fd, or -1 (errno set) when it cannot be opened.
  int get() {
    if (fd_ >= 0) return fd_;
    fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, protocol_);
    if (fd_ < 0) return -1;
    timeval tv{1, 0};  // the kernel answers at once; never hang a worker on it
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd_;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::uint32_t next_seq() { return ++seq_; }

 private:
  int protocol_;
  int fd_ = -1;
  std::uint32_t seq_ = 0;
};

inline NetlinkSocket& thread_sock_diag_socket() {
  thread_local NetlinkSocket s(NETLINK_SOCK_DIAG);
  return s;
}

inline NetlinkSocket& thread_conntrack_socket() {
  thread_local NetlinkSocket s(NETLINK_NETFILTER);
  return s;
}

}  // namespace seatlock::dns
