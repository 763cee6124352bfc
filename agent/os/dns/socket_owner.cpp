// The owner of a client socket: sock_diag (socket_owner_diag.cpp), else /proc/net (here).
#include "os/dns/socket_owner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace seatlock::dns {

namespace {

// The kernel prints addresses as the raw 32-bit words in host order ("%08X"), ports as "%04X".
std::string hex_words(const void* addr, int words) {
  std::string out;
  const auto* w = static_cast<const std::uint32_t*>(addr);
  char buf[9];
  for (int i = 0; i < words; ++i) {
    std::snprintf(buf, sizeof buf, "%08X", w[i]);
    out += buf;
  }
  return out;
}

std::int64_t find(const std::string& file, const std::string& local) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, addr, rem, st, queues, timer, retr, uid;
    if (!(f >> sl >> addr >> rem >> st >> queues >> timer >> retr >> uid)) continue;
    if (addr != local || st == "0A") continue;  // 0A: a TCP listener on the same port
    try {
      return std::stoll(uid);
    } catch (...) {
      return -1;
    }
  }
  return -1;
}

}  // namespace

std::int64_t socket_uid_proc(const sockaddr_storage& peer, bool tcp, const std::string& proc_net) {
  const std::string base = proc_net + (tcp ? "/tcp" : "/udp");
  char port[6];
  if (peer.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&peer);
    std::snprintf(port, sizeof port, "%04X", ntohs(a->sin_port));
    std::int64_t uid = find(base, hex_words(&a->sin_addr, 1) + ":" + port);
    if (uid >= 0) return uid;
    // A dual-stack client socket lists the IPv4 address as ::ffff:a.b.c.d.
    in6_addr mapped{};
    mapped.s6_addr[10] = mapped.s6_addr[11] = 0xff;
    std::memcpy(&mapped.s6_addr[12], &a->sin_addr, 4);
    return find(base + "6", hex_words(&mapped, 4) + ":" + port);
  }
  if (peer.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&peer);
    std::snprintf(port, sizeof port, "%04X", ntohs(a->sin6_port));
    return find(base + "6", hex_words(&a->sin6_addr, 4) + ":" + port);
  }
  return -1;
}

namespace {
std::atomic<std::uint64_t> g_udp_dumps{0};
}  // namespace

std::uint64_t socket_owner_udp_dumps() {
  return g_udp_dumps;
}

std::int64_t socket_uid(const sockaddr_storage& peer, bool tcp, const sockaddr_storage* guard) {
  if (!tcp && guard) {
    if (auto uid = socket_uid_exact(peer, *guard)) return *uid;
    ++g_udp_dumps;  // counted: a seat without ctnetlink pays the dump on every refusal
  }
  if (auto uid = socket_uid_diag(peer, tcp)) return *uid;
  return socket_uid_proc(peer, tcp);  // counted by socket_uid_diag (socket_owner_fallbacks)
}

}  // namespace seatlock::dns
