// The exact owner lookup of a redirected UDP query (socket_uid_exact): two netlink round trips,
// each a hash lookup in the kernel, instead of a sock_diag dump that walks every slot of the
// UDP hash table (16,384 here; a fifth of the guard's CPU on refused names).
//   1. ctnetlink: the conntrack entry by its REPLY tuple (guard address:port -> client
//      address:port; the redirect is the entry's nat), whose ORIGINAL tuple holds the address
//      and port the client sent to.
//   2. sock_diag, not a dump: the socket that receives from that address and port at the
//      client's address and port (udp_dump_one: the kernel's receive lookup; in its request
//      "src" is the remote end and "dst" the socket's own, "for historical reasons").
#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "os/dns/netlink_socket.hpp"
#include "os/dns/socket_owner.hpp"

namespace seatlock::dns {

namespace {

// Builds a netlink message with attributes (nested ones by begin/end).
class Message {
 public:
  explicit Message(std::uint16_t type, std::uint32_t seq, const void* head, std::size_t head_len) {
    auto* h = reinterpret_cast<nlmsghdr*>(buf_);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = seq;
    len_ = NLMSG_HDRLEN;
    std::memcpy(buf_ + len_, head, head_len);
    len_ += NLMSG_ALIGN(head_len);
  }
  void put(std::uint16_t type, const void* data, std::size_t n) {
    auto* a = reinterpret_cast<nlattr*>(buf_ + len_);
    a->nla_type = type;
    a->nla_len = std::uint16_t(NLA_HDRLEN + n);
    if (n) std::memcpy(buf_ + len_ + NLA_HDRLEN, data, n);
    len_ += NLA_ALIGN(NLA_HDRLEN + n);
  }
  std::size_t begin(std::uint16_t type) {
    const std::size_t at = len_;
    put(std::uint16_t(type | NLA_F_NESTED), nullptr, 0);
    return at;
  }
  void end(std::size_t at) {
    reinterpret_cast<nlattr*>(buf_ + at)->nla_len = std::uint16_t(len_ - at);
  }
  const char* send_buffer() {
    reinterpret_cast<nlmsghdr*>(buf_)->nlmsg_len = std::uint32_t(len_);
    return buf_;
  }
  std::size_t size() const { return len_; }

 private:
  alignas(nlmsghdr) char buf_[256] = {};
  std::size_t len_ = 0;
};

// Sends `m` and receives the one reply message of sequence `seq` into `buf`; nullptr on any
// error (the socket is reset).
const nlmsghdr* exchange(NetlinkSocket& s, Message& m, std::uint32_t seq, char* buf,
                         std::size_t cap) {
  const int fd = s.get();
  if (fd < 0) return nullptr;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, m.send_buffer(), m.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != ssize_t(m.size())) {
    s.reset();
    return nullptr;
  }
  for (;;) {
    const ssize_t n = ::recv(fd, buf, cap, 0);
    if (n <= 0) {
      s.reset();
      return nullptr;
    }
    const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
    if (!NLMSG_OK(h, int(n))) {
      s.reset();
      return nullptr;
    }
    if (h->nlmsg_seq != seq) continue;                 // a stale reply of an earlier request
    if (h->nlmsg_type == NLMSG_ERROR) return nullptr;  // ENOENT and the like: not an error here
    return h;
  }
}

// The payload of nested attribute `type` inside [data, data + len), or nullptr.
const nlattr* find_attr(const void* data, int len, std::uint16_t type) {
  for (auto* a = static_cast<const nlattr*>(data);
       len >= int(NLA_HDRLEN) && a->nla_len >= NLA_HDRLEN && int(a->nla_len) <= len;) {
    if ((a->nla_type & NLA_TYPE_MASK) == type) return a;
    const int step = NLA_ALIGN(a->nla_len);
    len -= step;
    a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + step);
  }
  return nullptr;
}
const void* payload(const nlattr* a) {
  return reinterpret_cast<const char*>(a) + NLA_HDRLEN;
}
int payload_len(const nlattr* a) {
  return int(a->nla_len) - int(NLA_HDRLEN);
}

struct Endpoint {
  int family = 0;
  std::uint8_t addr[16] = {};  // 4 or 16 bytes, network order
  std::uint16_t port_be = 0;
};

Endpoint endpoint_of(const sockaddr_storage& ss) {
  Endpoint e;
  e.family = ss.ss_family;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    std::memcpy(e.addr, &a->sin_addr, 4);
    e.port_be = a->sin_port;
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::memcpy(e.addr, &a->sin6_addr, 16);
    e.port_be = a->sin6_port;
  }
  return e;
}

// Step 1: where the client sent its datagram before the redirect.
bool original_destination(const Endpoint& client, const Endpoint& guard, Endpoint& out) {
  const bool v4 = client.family == AF_INET;
  const std::size_t alen = v4 ? 4 : 16;
  nfgenmsg g{};
  g.nfgen_family = std::uint8_t(client.family);
  g.version = NFNETLINK_V0;
  const std::uint32_t seq = thread_conntrack_socket().next_seq();
  Message m(std::uint16_t((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET), seq, &g, sizeof g);
  const std::size_t tuple = m.begin(CTA_TUPLE_REPLY);
  const std::size_t ip = m.begin(CTA_TUPLE_IP);
  m.put(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, guard.addr, alen);
  m.put(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, client.addr, alen);
  m.end(ip);
  const std::size_t proto = m.begin(CTA_TUPLE_PROTO);
  const std::uint8_t udp = IPPROTO_UDP;
  m.put(CTA_PROTO_NUM, &udp, 1);
  m.put(CTA_PROTO_SRC_PORT, &guard.port_be, 2);
  m.put(CTA_PROTO_DST_PORT, &client.port_be, 2);
  m.end(proto);
  m.end(tuple);
  alignas(nlmsghdr) char buf[4096];
  const nlmsghdr* h = exchange(thread_conntrack_socket(), m, seq, buf, sizeof buf);
  if (!h || h->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return false;
  const char* attrs = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg));
  const int attrs_len = int(h->nlmsg_len) - int(NLMSG_LENGTH(NLMSG_ALIGN(sizeof(nfgenmsg))));
  const nlattr* orig = find_attr(attrs, attrs_len, CTA_TUPLE_ORIG);
  if (!orig) return false;
  const nlattr* oip = find_attr(payload(orig), payload_len(orig), CTA_TUPLE_IP);
  const nlattr* oproto = find_attr(payload(orig), payload_len(orig), CTA_TUPLE_PROTO);
  if (!oip || !oproto) return false;
  const nlattr* dst = find_attr(payload(oip), payload_len(oip), v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST);
  const nlattr* dport = find_attr(payload(oproto), payload_len(oproto), CTA_PROTO_DST_PORT);
  if (!dst || !dport || payload_len(dst) != int(alen) || payload_len(dport) != 2) return false;
  out.family = client.family;
  std::memcpy(out.addr, payload(dst), alen);
  std::memcpy(&out.port_be, payload(dport), 2);
  return true;
}

// Step 2: the socket that receives from `remote` at `local`; -1 when none does.
std::optional<std::int64_t> receiving_socket_uid(const Endpoint& local, const Endpoint& remote) {
  inet_diag_req_v2 req{};
  req.sdiag_family = std::uint8_t(local.family);
  req.sdiag_protocol = IPPROTO_UDP;
  req.idiag_states = ~0u;
  const std::size_t alen = local.family == AF_INET ? 4 : 16;
  std::memcpy(req.id.idiag_src, remote.addr, alen);  // swapped in udp_dump_one, see above
  req.id.idiag_sport = remote.port_be;
  std::memcpy(req.id.idiag_dst, local.addr, alen);
  req.id.idiag_dport = local.port_be;
  req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  const std::uint32_t seq = thread_sock_diag_socket().next_seq();
  Message m(SOCK_DIAG_BY_FAMILY, seq, &req, sizeof req);
  alignas(nlmsghdr) char buf[4096];
  const nlmsghdr* h = exchange(thread_sock_diag_socket(), m, seq, buf, sizeof buf);
  if (!h || h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
      h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
    return std::nullopt;
  return static_cast<const inet_diag_msg*>(NLMSG_DATA(h))->idiag_uid;
}

}  // namespace

std::optional<std::int64_t> socket_uid_exact(const sockaddr_storage& peer,
                                             const sockaddr_storage& guard) {
  if (peer.ss_family != guard.ss_family ||
      (peer.ss_family != AF_INET && peer.ss_family != AF_INET6))
    return std::nullopt;
  const Endpoint client = endpoint_of(peer);
  Endpoint sent_to;
  if (!original_destination(client, endpoint_of(guard), sent_to)) return std::nullopt;
  return receiving_socket_uid(client, sent_to);
}

}  // namespace seatlock::dns
