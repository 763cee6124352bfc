// Per-packet cost of the egress ruleset: CPU time of a sender for a fixed number of UDP
// datagrams through a veth pair into a second namespace, without any ruleset and with
// seatlock's two tables at 10,000 CIDRs + 1,000 exceptions, and with conntrack alone (what the
// tables switch on), in alternated runs. The tables are measured twice: as compiled (a packet of
// a connection accepted under the current generation passes the early rule, docs/network.md
// "Established connections") and with every packet checked against the allowlists (the early
// rule left out and the stamp replaced by a plain accept: the chains before issue 18).
//   bench_net_packets [PACKETS [ROUNDS [CIDRS]]]   (root; makes and removes its own namespaces)
// The sender's CPU (user + system) covers its syscalls, the output hooks of both tables and
// the softirq that delivers its packets; the receiver drains them in the other namespace.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_rules.hpp"
#include "core/net/ruleset.hpp"
#include "os/base/netns.hpp"
#include "os/net/nft.hpp"

using namespace seatlock;
using namespace seatlock::bench;

namespace {

const char* const kSeatAddr = "10.98.0.1";
const char* const kRemoteAddr = "10.98.0.2";
constexpr std::uint16_t kPort = 9;

void run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "bench: failed: %s\n", cmd.c_str());
    std::exit(1);
  }
}

// The receiver: drains datagrams in the remote namespace until killed.
pid_t start_sink(const std::string& remote_ns) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  enter_network_namespace(remote_ns);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  inet_pton(AF_INET, kRemoteAddr, &a.sin_addr);
  int big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) _exit(1);
  char buf[2048];
  for (;;) (void)recv(fd, buf, sizeof buf, 0);
}

// The same transaction with every packet re-checked: no early generation rule, no stamp.
std::string per_packet_variant(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line == "    jump decided") continue;
    if (auto pos = line.find("goto accepted"); pos != std::string::npos)
      line.replace(pos, std::string("goto accepted").size(), "accept");
    out += line + "\n";
  }
  return out;
}

// CPU ms of this process for `packets` datagrams of 64 bytes on one connected socket.
double send_packets(int packets) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  inet_pton(AF_INET, kRemoteAddr, &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bench: connect");
    std::exit(1);
  }
  char payload[64] = {};
  int failed = 0;
  const double c0 = cpu_ms();
  for (int i = 0; i < packets; ++i)
    if (send(fd, payload, sizeof payload, 0) < 0) ++failed;
  const double used = cpu_ms() - c0;
  close(fd);
  // Denied datagrams fail with EPERM: the ruleset must let these through, or the figure is of
  // something else.
  if (failed) std::fprintf(stderr, "bench: %d of %d datagrams failed\n", failed, packets);
  return used;
}

}  // namespace

int main(int argc, char** argv) {
  const int packets = argc > 1 ? std::atoi(argv[1]) : 200'000;
  const int pairs = argc > 2 ? std::atoi(argv[2]) : 7;
  const int cidrs = argc > 3 ? std::atoi(argv[3]) : 10000;
  const std::string id = "sl-pkt-" + std::to_string(getpid());
  const std::string seat = id + "-seat", remote = id + "-remote";
  run("ip netns add " + seat + " && ip netns add " + remote);
  run("ip -n " + seat + " link add slp0 type veth peer name slp1 netns " + remote);
  run("ip -n " + seat + " addr add " + kSeatAddr + "/24 dev slp0 && ip -n " + remote +
      " addr add " + kRemoteAddr + "/24 dev slp1");
  run("ip -n " + seat + " link set slp0 up && ip -n " + remote + " link set slp1 up && ip -n " +
      seat + " link set lo up");
  const pid_t sink = start_sink(remote);
  enter_network_namespace(seat);

  std::mt19937 rng(10000);
  net::NetRules rules = make_rules(cidrs, 1000, rng);
  EgressRule to_sink;  // the destination, allowed like any entry of the list
  to_sink.to.push_back({4, kRemoteAddr, 32});
  to_sink.ports.push_back({kPort, kPort});
  to_sink.proto = "udp";
  rules.allow.push_back(to_sink);
  const UnixMillis now = 1'800'000'000'000;
  const std::string load = net::full_transaction(rules, net::compile_ruleset(rules, now));
  const std::string per_packet = per_packet_variant(load);
  net::Nft nft;
  (void)send_packets(packets / 10);  // warm-up: neighbour entry, conntrack, caches

  // A third side: conntrack alone (one table with a ct rule, which turns conntrack on in the
  // namespace as seatlock's tables do), so the chains' own cost is told apart from tracking.
  const std::string ct_only =
      "table inet sl_ct {\n  chain output {\n    type filter hook output priority filter; "
      "policy accept;\n    ct state established,related accept\n  }\n}\n";
  std::vector<double> none, ct, with, every, ratio_none, ratio_ct, ratio_every_ct, ratio_gain;
  const std::vector<int> orders[4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}};
  for (int i = 0; i < pairs; ++i) {
    // The order rotates, so a drift in machine load does not favour one side.
    for (int side : orders[i % 4]) {
      if (side == 1) nft.run(ct_only);
      if (side == 2) nft.run(load);
      if (side == 3) nft.run(per_packet);
      const double ns = send_packets(packets) * 1e6 / packets;
      (side == 0 ? none : side == 1 ? ct : side == 2 ? with : every).push_back(ns);
      if (side == 1) nft.run("delete table inet sl_ct");
      if (side >= 2) nft.run("delete table inet seatlock\ndelete table inet seatlock_fallback");
    }
    ratio_none.push_back(with.back() / none.back());
    ratio_ct.push_back(with.back() / ct.back());
    ratio_every_ct.push_back(every.back() / ct.back());
    ratio_gain.push_back(with.back() / every.back());
  }
  kill(sink, SIGKILL);
  waitpid(sink, nullptr, 0);
  std::system(("ip netns del " + seat + "; ip netns del " + remote).c_str());
  auto range = [](const std::vector<double>& v) {
    return std::make_pair(*std::min_element(v.begin(), v.end()),
                          *std::max_element(v.begin(), v.end()));
  };
  std::printf(
      "UDP, %d datagrams of 64 bytes per run, sender CPU per datagram (median of %d alternated "
      "rounds):\n"
      "  no ruleset:                                    %6.0f ns\n"
      "  conntrack only (one ct rule):                  %6.0f ns\n"
      "  both tables, %5d CIDRs + 1,000 exceptions:    %6.0f ns\n"
      "  the same, every packet re-checked (before):    %6.0f ns\n"
      "  tables / none per round:      median %.3f (%.3f-%.3f)\n"
      "  tables / conntrack per round: median %.3f (%.3f-%.3f)\n"
      "  re-checked / conntrack:       median %.3f (%.3f-%.3f)\n"
      "  tables / re-checked:          median %.3f (%.3f-%.3f)\n",
      packets, pairs, median(none), median(ct), cidrs, median(with), median(every),
      median(ratio_none), range(ratio_none).first, range(ratio_none).second, median(ratio_ct),
      range(ratio_ct).first, range(ratio_ct).second, median(ratio_every_ct),
      range(ratio_every_ct).first, range(ratio_every_ct).second, median(ratio_gain),
      range(ratio_gain).first, range(ratio_gain).second);
  return 0;
}
