// Compile + apply time of the egress ruleset for 10, 1,000 and 10,000 allowed CIDRs with
// 1,000 user exceptions, in a network namespace of its own (given as argv[1], made by run.sh).
// Prints the median of several runs; the apply is the full two-table transaction seatlockd runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/net/ruleset.hpp"
#include "os/base/netns.hpp"
#include "os/net/nft.hpp"

using namespace seatlock;
using namespace seatlock::net;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string v4(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

NetRules make_rules(int cidrs, int exceptions, std::mt19937& rng) {
  NetRules r;
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
    ResolvedException x;
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_net_apply NETNS [RUNS]\n");
    return 2;
  }
  enter_network_namespace(argv[1]);
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  Nft nft;
  std::mt19937 rng(7);
  std::printf("%-8s %-10s %10s %10s %10s %10s %12s\n", "cidrs", "exceptions", "elements", "compile",
              "apply", "total", "text KiB");
  for (int cidrs : {10, 1000, 10000}) {
    NetRules rules = make_rules(cidrs, 1000, rng);
    std::vector<double> compile_ms, apply_ms, total_ms;
    std::size_t elements = 0, bytes = 0;
    for (int i = 0; i < runs; ++i) {
      auto t0 = Clock::now();
      CompiledRuleset c = compile_ruleset(rules, 1'800'000'000'000);
      std::string text = full_transaction(rules, c);
      auto t1 = Clock::now();
      nft.run(text);
      auto t2 = Clock::now();
      compile_ms.push_back(ms(t0, t1));
      apply_ms.push_back(ms(t1, t2));
      total_ms.push_back(ms(t0, t2));
      elements = c.base_elements + c.exception_elements;
      bytes = text.size();
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("%-8d %-10d %10zu %8.1fms %8.1fms %8.1fms %12zu\n", cidrs, 1000, elements,
                median(compile_ms), median(apply_ms), median(total_ms), bytes / 1024);
  }
  std::printf(
      "(median of %d runs each; compile = NetRules -> nft text, apply = libnftables transaction of "
      "both tables)\n",
      runs);
  return 0;
}
