#pragma once
// What the network benchmarks share: the synthetic policy (N CIDRs scattered over public IPv4
// space, each with a TCP port or range, plus M one-user exceptions) and CPU-time readings.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/net/net_rules.hpp"

namespace seatlock::bench {

inline std::string v4(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

inline net::NetRules make_rules(int cidrs, int exceptions, std::mt19937& rng) {
  net::NetRules r;
  for (int i = 0; i < cidrs; ++i) {
    EgressRule e;
    int prefix = 20 + int(rng() % 13);  // /20 .. /32, scattered over public space
    std::uint32_t addr =
        (std::uint32_t(rng()) & ~((prefix == 32 ? 0u : (1u << (32 - prefix))) - 1)) | 0x01000000u;
    e.to.push_back({4, v4(addr & (prefix == 32 ? ~0u : ~((1u << (32 - prefix)) - 1))), prefix});
    e.ports.push_back(i % 3 == 0 ? PortRange{443, 443} : PortRange{8000, 8100});
    e.proto = "tcp";
    r.allow.push_back(e);
  }
  for (int i = 0; i < exceptions; ++i) {
    net::ResolvedException x;
    x.ticket = "T-" + std::to_string(i);
    x.uids = {std::uint32_t(20000 + i)};
    EgressRule e;
    e.to.push_back({4, "0.0.0.0", 0});
    e.ports.push_back({443, 443});
    e.proto = "tcp";
    x.allow.push_back(e);
    x.until = 4'000'000'000'000;
    r.exceptions.push_back(x);
  }
  r.dns = {"10.0.0.53"};
  return r;
}

// CPU time of this process (user + system, which includes the kernel's work done on its
// behalf: netlink, and for a sender the netfilter hooks and the softirq its packets raise):
// on a shared, loaded machine the steadier figure.
inline double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
inline double children_cpu_ms() {
  rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace seatlock::bench
