#pragma once
// The reconnect storm runs in a network namespace of its own, tuned the way the package tunes a
// collector host: the listen-queue limits (net.core.somaxconn, net.ipv4.tcp_max_syn_backlog)
// are per namespace, so the storm gets the values of the shipped sysctl.d file
// (packaging/sysctl/60-seatlock-collector.conf) without touching the host's. Also: the kernel's
// listen counters of that namespace, and a sampler of the listener's accept queue.
#include <atomic>
#include <cstddef>
#include <map>
#include <string>
#include <thread>

namespace seatlock::testing {

// The sysctl.d file the seatlock-collector package installs.
std::string shipped_collector_sysctl_file();

// key = value lines of a sysctl.d file (comments and blank lines skipped).
std::map<std::string, std::string> read_sysctl_file(const std::string& path);

// Moves the calling process into a new network namespace (unshare(CLONE_NEWNET): every thread
// and child started afterwards is in it), brings loopback up and writes `settings` to
// /proc/sys. Needs root. Throws with the reason.
void enter_own_netns(const std::map<std::string, std::string>& settings);

// A /proc/sys value of the calling process's namespace, e.g. "net.core.somaxconn".
std::string read_sysctl(const std::string& key);

// TcpExt counters of /proc/net/netstat (this namespace): ListenOverflows, ListenDrops, ...
std::map<std::string, long long> tcp_ext_counters();

// Samples the accept queue (Recv-Q of the listening socket) on `port` every 20 ms through
// sock_diag, until destroyed; peak() is the deepest seen, limit() the listen backlog in force.
class AcceptQueueSampler {
 public:
  explicit AcceptQueueSampler(int port);
  ~AcceptQueueSampler();
  std::size_t peak() const { return peak_; }
  std::size_t limit() const { return limit_; }

 private:
  void sample();
  int port_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> peak_{0}, limit_{0};
  std::thread thread_;
};

}  // namespace seatlock::testing
