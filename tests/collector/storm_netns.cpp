#include "storm_netns.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/own_netns.hpp"

namespace seatlock::testing {
namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string proc_sys_path(std::string key) {
  std::replace(key.begin(), key.end(), '.', '/');
  return "/proc/sys/" + key;
}

}  // namespace

std::string shipped_collector_sysctl_file() {
  return std::string(SEATLOCK_SOURCE_DIR) + "/packaging/sysctl/60-seatlock-collector.conf";
}

std::map<std::string, std::string> read_sysctl_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read sysctl file " + path);
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error(path + ": not key = value: " + line);
    out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

void enter_own_netns(const std::map<std::string, std::string>& settings) {
  enter_own_network_namespace();
  // /proc/sys/net resolves to the namespace of the process that opens it: this one's.
  for (const auto& [key, value] : settings) {
    std::ofstream out(proc_sys_path(key));
    out << value << "\n";
    out.flush();
    if (!out || read_sysctl(key) != value)
      throw std::runtime_error("cannot set " + key + " = " + value + " in the storm's namespace");
  }
}

std::string read_sysctl(const std::string& key) {
  std::ifstream in(proc_sys_path(key));
  std::string v;
  std::getline(in, v);
  return trim(v);
}

std::map<std::string, long long> tcp_ext_counters() {
  std::ifstream in("/proc/net/netstat");
  std::map<std::string, long long> out;
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    n >> name;
    v >> value;
    while (n >> name && v >> value) out[name] = std::stoll(value);
  }
  return out;
}

AcceptQueueSampler::AcceptQueueSampler(int port) : port_(port) {
  thread_ = std::thread([this] {
    while (!stop_) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

AcceptQueueSampler::~AcceptQueueSampler() {
  stop_ = true;
  thread_.join();
}

// One sock_diag dump of the TCP listeners; for a listener, rqueue is the accept queue's length
// and wqueue the backlog it was given (min(listen() argument, somaxconn)).
void AcceptQueueSampler::sample() {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return;
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.req.sdiag_family = AF_INET;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = 1u << TCP_LISTEN;
  if (send(fd, &msg, sizeof msg, 0) == static_cast<ssize_t>(sizeof msg)) {
    alignas(nlmsghdr) char buf[16384];
    for (bool done = false; !done;) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      auto* h = reinterpret_cast<nlmsghdr*>(buf);
      for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        auto* m = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
        if (ntohs(m->id.idiag_sport) != port_) continue;
        if (m->idiag_rqueue > peak_) peak_ = m->idiag_rqueue;
        limit_ = m->idiag_wqueue;
      }
    }
  }
  close(fd);
}

}  // namespace seatlock::testing
