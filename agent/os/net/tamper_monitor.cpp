#include "os/net/tamper_monitor.hpp"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace seatlock::net {

namespace {

const char* message_name(int type) {
  switch (type) {
    case NFT_MSG_NEWTABLE:
      return "NEWTABLE";
    case NFT_MSG_DELTABLE:
      return "DELTABLE";
    case NFT_MSG_NEWCHAIN:
      return "NEWCHAIN";
    case NFT_MSG_DELCHAIN:
      return "DELCHAIN";
    case NFT_MSG_NEWRULE:
      return "NEWRULE";
    case NFT_MSG_DELRULE:
      return "DELRULE";
    case NFT_MSG_NEWSET:
      return "NEWSET";
    case NFT_MSG_DELSET:
      return "DELSET";
    case NFT_MSG_NEWSETELEM:
      return "NEWSETELEM";
    case NFT_MSG_DELSETELEM:
      return "DELSETELEM";
    case NFT_MSG_NEWOBJ:
      return "NEWOBJ";
    case NFT_MSG_DELOBJ:
      return "DELOBJ";
    case NFT_MSG_NEWFLOWTABLE:
      return "NEWFLOWTABLE";
    case NFT_MSG_DELFLOWTABLE:
      return "DELFLOWTABLE";
    default:
      return nullptr;
  }
}

// Walks the attributes after the nfgenmsg header: calls f(type, data, len).
template <typename F>
void for_each_attr(const nlmsghdr* nlh, F f) {
  const char* p = static_cast<const char*>(NLMSG_DATA(nlh)) + NLMSG_ALIGN(sizeof(nfgenmsg));
  const char* end = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
  while (p + sizeof(nlattr) <= end) {
    auto* a = reinterpret_cast<const nlattr*>(p);
    if (a->nla_len < sizeof(nlattr) || p + a->nla_len > end) break;
    f(a->nla_type & NLA_TYPE_MASK, p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
    p += NLA_ALIGN(a->nla_len);
  }
}

std::string attr_string(const char* data, int len) {
  std::string s(data, std::size_t(len));
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

}  // namespace

TamperMonitor::TamperMonitor(std::set<std::string> watched,
                             std::function<void(const TableChange&)> on_change,
                             std::function<void()> on_overrun)
    : watched_(std::move(watched)),
      on_change_(std::move(on_change)),
      on_overrun_(std::move(on_overrun)) {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd_ < 0)
    throw std::runtime_error(std::string("tamper monitor: socket: ") + std::strerror(errno));
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  int group = NFNLGRP_NFTABLES;
  // Our own large applies produce one message per set element: a big buffer keeps up with them.
  int size = 32 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
      setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
    int e = errno;
    close(fd_);
    throw std::runtime_error(std::string("tamper monitor: join NFNLGRP_NFTABLES: ") +
                             std::strerror(e));
  }
}

TamperMonitor::~TamperMonitor() {
  if (fd_ >= 0) close(fd_);
}

void TamperMonitor::on_readable() {
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // notifications were lost: the caller re-checks the tables
        pending_ = {};
        on_overrun_();
        continue;
      }
      return;  // EAGAIN
    }
    int len = int(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(nlh, len);
         nlh = NLMSG_NEXT(nlh, len))
      handle(nlh);
  }
}

void TamperMonitor::handle(const ::nlmsghdr* nlh) {
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) return;
  int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
  if (type == NFT_MSG_NEWGEN) {
    TableChange change = std::move(pending_);
    pending_ = {};
    for_each_attr(nlh, [&](int t, const char* d, int l) {
      if (t == NFTA_GEN_ID && l == 4)
        change.generation = ntohl(*reinterpret_cast<const std::uint32_t*>(d));
      if (t == NFTA_GEN_PROC_PID && l == 4)
        change.pid = ntohl(*reinterpret_cast<const std::uint32_t*>(d));
      if (t == NFTA_GEN_PROC_NAME) change.comm = attr_string(d, l);
    });
    if (!change.tables.empty()) on_change_(change);
    return;
  }
  const char* name = message_name(type);
  auto* gen = static_cast<const nfgenmsg*>(NLMSG_DATA(nlh));
  if (!name || gen->nfgen_family != NFPROTO_INET) return;  // seatlock's tables are inet
  // Attribute 1 is the table name in every object message (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE,
  // NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE, ...).
  for_each_attr(nlh, [&](int t, const char* d, int l) {
    if (t != 1) return;
    std::string table = attr_string(d, l);
    if (watched_.count(table)) {
      pending_.tables.insert(table);
      pending_.messages.insert(name);
    }
  });
}

}  // namespace seatlock::net
