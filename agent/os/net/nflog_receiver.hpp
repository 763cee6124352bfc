#pragma once
// Receives the packets seatlock's `log group` rules hand to NFLOG (libnl-nf), parsed into the
// fields `net.egress_denied` aggregates on. The caller polls fd() and calls on_readable().
#include <cstdint>
#include <functional>
#include <string>

#include "core/net/denied.hpp"

struct nl_sock;
struct nl_msg;

namespace seatlock::net {

struct LoggedPacket {
  std::string prefix;     // the rule's log prefix ("sl-deny", "sl-audit", "sl-saddr")
  std::int64_t uid = -1;  // owner of the sending socket, -1 when there is none
  PacketInfo packet;
};

class NflogReceiver {
 public:
  using Handler = std::function<void(const LoggedPacket&)>;
  // Binds NFLOG group `group` in the current network namespace; throws std::runtime_error.
  NflogReceiver(std::uint16_t group, Handler handler);
  ~NflogReceiver();
  NflogReceiver(const NflogReceiver&) = delete;
  NflogReceiver& operator=(const NflogReceiver&) = delete;

  int fd() const;
  void on_readable();                           // drains what is queued; never blocks
  std::uint64_t lost() const { return lost_; }  // messages lost to a full socket buffer

 private:
  static int on_message(::nl_msg* msg, void* self);
  nl_sock* sock_ = nullptr;
  Handler handler_;
  std::uint64_t lost_ = 0;
};

}  // namespace seatlock::net
