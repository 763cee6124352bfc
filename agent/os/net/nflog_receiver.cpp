#include "os/net/nflog_receiver.hpp"

#include <netlink/msg.h>
#include <netlink/netfilter/log.h>
#include <netlink/netfilter/log_msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace seatlock::net {

NflogReceiver::NflogReceiver(std::uint16_t group, Handler handler) : handler_(std::move(handler)) {
  sock_ = nl_socket_alloc();
  if (!sock_) throw std::runtime_error("nflog: cannot allocate a netlink socket");
  nl_socket_disable_seq_check(sock_);
  nl_socket_modify_cb(sock_, NL_CB_VALID, NL_CB_CUSTOM, &NflogReceiver::on_message, this);
  if (int err = nl_connect(sock_, NETLINK_NETFILTER); err < 0) {
    nl_socket_free(sock_);
    throw std::runtime_error(std::string("nflog: connect: ") + nl_geterror(err));
  }
  // Pre-3.x kernels needed an explicit pf bind; current ones ignore it.
  nfnl_log_pf_bind(sock_, AF_INET);
  nfnl_log_pf_bind(sock_, AF_INET6);
  nfnl_log* log = nfnl_log_alloc();
  nfnl_log_set_group(log, group);
  nfnl_log_set_copy_mode(log, NFNL_LOG_COPY_PACKET);
  nfnl_log_set_copy_range(log, 96);     // IP + transport headers are all we read
  nfnl_log_set_flush_timeout(log, 10);  // 0.1 s: batch a flood, stay prompt otherwise
  int err = nfnl_log_create(sock_, log);
  nfnl_log_put(log);
  if (err < 0) {
    nl_socket_free(sock_);
    throw std::runtime_error("nflog: cannot bind group " + std::to_string(group) + ": " +
                             nl_geterror(err));
  }
  nl_socket_set_buffer_size(sock_, 4 << 20, 0);
  nl_socket_set_nonblocking(sock_);
}

NflogReceiver::~NflogReceiver() {
  // Closing the socket releases the NFLOG group binding in the kernel.
  if (sock_) nl_socket_free(sock_);
}

int NflogReceiver::fd() const {
  return nl_socket_get_fd(sock_);
}

void NflogReceiver::on_readable() {
  for (;;) {
    int rc = nl_recvmsgs_default(sock_);
    if (rc == -NLE_AGAIN || rc >= 0) {
      if (rc >= 0) continue;
      return;
    }
    if (rc == -NLE_NOMEM) {  // ENOBUFS: the kernel dropped messages; the counters still count
      ++lost_;
      continue;
    }
    return;
  }
}

int NflogReceiver::on_message(::nl_msg* msg, void* arg) {
  auto* self = static_cast<NflogReceiver*>(arg);
  nfnl_log_msg* lm = nullptr;
  if (nfnlmsg_log_msg_parse(nlmsg_hdr(msg), &lm) < 0 || !lm) return NL_OK;
  LoggedPacket p;
  if (const char* prefix = nfnl_log_msg_get_prefix(lm)) {
    p.prefix = prefix;
    while (!p.prefix.empty() && p.prefix.back() == ' ') p.prefix.pop_back();
  }
  if (nfnl_log_msg_test_uid(lm)) p.uid = nfnl_log_msg_get_uid(lm);
  int len = 0;
  const void* payload = nfnl_log_msg_get_payload(lm, &len);
  if (payload && len > 0) {
    if (auto info = parse_ip_packet(static_cast<const std::uint8_t*>(payload), std::size_t(len))) {
      p.packet = *info;
      self->handler_(p);
    }
  }
  nfnl_log_msg_put(lm);
  return NL_OK;
}

}  // namespace seatlock::net
