// Compile + apply time of the egress ruleset for 10, 1,000 and 10,000 allowed CIDRs with
// 1,000 user exceptions, in a network namespace of its own (given as argv[1], made by run.sh).
// Prints the median of several runs; the apply is the full two-table transaction seatlockd runs.
// Then, at 10,000 CIDRs: the first apply against the raw `nft -f` anchor and against `nft -f` of
// the same transaction text (alternated runs, the ratios per run), and policy changes applied in
// place (set_update.hpp): a new exception, an expiry, close and open, each compile + diff +
// transaction, with the tables' counters kept.
// usage: bench_net_apply NETNS [RUNS [10k|first|dump FILE]]: 10k skips the 10 and 1,000 rows,
// first prints only the first-apply figures, dump writes the 10,000-CIDR transaction to FILE.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_rules.hpp"
#include "core/net/fallback_file.hpp"
#include "core/net/ruleset.hpp"
#include "core/net/set_update.hpp"
#include "os/base/netns.hpp"
#include "os/net/net_state.hpp"
#include "os/net/nft.hpp"

using namespace seatlock;
using namespace seatlock::net;
using namespace seatlock::bench;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The anchor: one table with a plain 10,000-CIDR interval set and a chain, loaded by the nft
// binary (process start included), as bench/net/run.sh did before.
std::string write_anchor(std::mt19937& rng) {
  std::string els;
  for (int i = 0; i < 10000; ++i) {
    int prefix = 20 + int(rng() % 13);
    std::uint32_t mask = prefix == 32 ? ~0u : ~((1u << (32 - prefix)) - 1);
    els += (i ? ", " : "") + v4((std::uint32_t(rng()) | 0x01000000u) & mask) + "/" +
           std::to_string(prefix);
  }
  std::string path = "/tmp/sl-bench-anchor-" + std::to_string(getpid()) + ".nft";
  std::ofstream(path) << "add table inet raw\ndelete table inet raw\ntable inet raw {\n"
                      << " set a { type ipv4_addr; flags interval; auto-merge; elements = { " << els
                      << " } }\n chain o { type filter hook output priority 0; policy accept; "
                         "ip daddr @a accept; }\n}\n";
  return path;
}

// The same transaction text for the nft binary, with the tables renamed (this process's context
// owns "seatlock"): what `nft -f` makes of exactly the ruleset seatlockd applies.
std::string write_same_text(const std::string& text) {
  std::string renamed;
  renamed.reserve(text.size());
  const std::string from = "inet seatlock", to = "inet sl_text";
  std::size_t at = 0;
  for (std::size_t hit; (hit = text.find(from, at)) != std::string::npos; at = hit + from.size())
    renamed.append(text, at, hit - at).append(to);
  renamed.append(text, at, std::string::npos);
  std::string path = "/tmp/sl-bench-same-text-" + std::to_string(getpid()) + ".nft";
  std::ofstream(path) << renamed;
  return path;
}

// One `nft -f FILE` (process start included): wall and CPU (the children's) in ms.
std::pair<double, double> nft_file(const std::string& path) {
  const double k0 = children_cpu_ms();
  const auto t0 = Clock::now();
  if (std::system(("nft -f " + path).c_str()) != 0) std::fprintf(stderr, "nft -f failed\n");
  return {ms(t0, Clock::now()), children_cpu_ms() - k0};
}

struct Spread {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  std::string text() const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2fx (%.2f-%.2f)", median(v),
                  *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    return buf;
  }
};

// Alternated triples: seatlockd's first apply (in process, as the daemon runs it), `nft -f` of
// the same transaction text, and the anchor. The first ratio is issue 18's figure; the other two
// split it into what seatlockd adds to nft and what the ruleset itself costs over the anchor.
void first_apply_vs_anchor(Nft& nft, const NetRules& rules, std::mt19937& rng, int runs) {
  const UnixMillis t = 1'800'000'000'000;
  const std::string anchor = write_anchor(rng);
  const std::string same_text = write_same_text(full_transaction(rules, compile_ruleset(rules, t)));
  std::vector<double> ours, ours_cpu, compile_cpu, same, same_cpu, raw, raw_cpu;
  Spread ratio, ratio_cpu, ours_same_cpu, same_raw_cpu;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    double c0 = cpu_ms();
    CompiledRuleset c = compile_ruleset(rules, t);
    std::string text = full_transaction(rules, c);
    double c1 = cpu_ms();
    nft.run(text);
    double c2 = cpu_ms();
    ours.push_back(ms(t0, Clock::now()));
    ours_cpu.push_back(c2 - c0);
    compile_cpu.push_back(c1 - c0);
    auto [same_wall, same_c] = nft_file(same_text);
    same.push_back(same_wall);
    same_cpu.push_back(same_c);
    auto [raw_wall, raw_c] = nft_file(anchor);
    raw.push_back(raw_wall);
    raw_cpu.push_back(raw_c);
    ratio.add(ours.back() / raw.back());
    ratio_cpu.add(ours_cpu.back() / raw_cpu.back());
    ours_same_cpu.add(ours_cpu.back() / same_cpu.back());
    same_raw_cpu.add(same_cpu.back() / raw_cpu.back());
  }
  std::remove(anchor.c_str());
  std::remove(same_text.c_str());
  // Gone before the in-place figures: nft reads the elements of every auto-merge set (this
  // one's 10,000) before any element change. (The renamed owned table went with its nft.)
  nft.run(
      "delete table inet raw\nadd table inet sl_text_fallback\ndelete table inet sl_text_fallback");
  std::printf(
      "first apply, 10,000 CIDRs + 1,000 exceptions (compile + both tables): median %.1f ms wall, "
      "%.1f ms CPU, of which compile + text %.1f ms\n"
      "nft -f of the same transaction text (process start incl.): median %.1f ms wall, %.1f ms "
      "CPU\n"
      "raw nft -f, one table, plain 10,000-CIDR set (process start incl.): median %.1f ms wall, "
      "%.1f ms CPU\n"
      "ratio per alternated run: wall median %s, CPU median %s, %d runs\n"
      "  CPU: first apply / nft -f of its text %s, nft -f of its text / raw %s\n",
      median(ours), median(ours_cpu), median(compile_cpu), median(same), median(same_cpu),
      median(raw), median(raw_cpu), ratio.text().c_str(), ratio_cpu.text().c_str(), runs,
      ours_same_cpu.text().c_str(), same_raw_cpu.text().c_str());
}

// The named counters of the owned table, summed (packets): they must survive in-place changes.
std::uint64_t counter_packets(Nft& nft) {
  std::uint64_t sum = 0;
  for (const auto& item : nft.list_json("list counters table inet seatlock"))
    if (item.contains("counter")) sum += item["counter"].value("packets", std::uint64_t(0));
  return sum;
}

// One packet the output chain drops (a dummy interface with a subnet nobody allows).
void deny_one_packet() {
  static bool ready = std::system(
                          "ip link add sl-bench0 type veth peer name sl-bench1 && "
                          "ip link set sl-bench0 up && ip link set sl-bench1 up && "
                          "ip addr add 10.200.0.1/24 dev sl-bench0") == 0;
  if (!ready || std::system("bash -c 'echo x > /dev/udp/10.200.0.99/9' 2>/dev/null") == 0)
    std::fprintf(stderr, "bench: the test packet was not denied\n");
}

void in_place_changes(Nft& nft, NetRules rules, int runs) {
  const UnixMillis t = 1'800'000'000'000;
  // One exception that expires first, so the expiry recompile has something to remove.
  rules.exceptions.front().until = t + 3'600'000;
  CompiledRuleset in_force = compile_ruleset(rules, t);
  nft.run(full_transaction(rules, in_force));
  NetRules current = rules;
  deny_one_packet();
  const std::uint64_t before = counter_packets(nft);
  std::printf(
      "in-place changes at 10,000 CIDRs + 1,000 exceptions (compile + diff + transaction; then "
      "the fallback file seatlockd rewrites after each change)\n");
  char state_template[] = "/tmp/sl-bench-state-XXXXXX";
  const std::string state_dir = mkdtemp(state_template) ? state_template : "/tmp";
  auto change = [&](const char* what, NetRules next, UnixMillis now) {
    std::vector<double> v, cpu, nft_cpu, file_cpu;
    std::size_t bytes = 0;
    for (int i = 0; i < runs; ++i) {
      // Back and forth: each run is the change itself, then the way back (not timed).
      for (int leg = 0; leg < 2; ++leg) {
        const NetRules& to = leg == 0 ? next : current;
        const UnixMillis at = leg == 0 ? now : t;
        // Untimed, between changes, as `seatlockctl net status` does in seatlockd (a listing
        // once made every later transaction of the same nft context fetch all set elements).
        counter_packets(nft);
        auto t0 = Clock::now();
        double c0 = cpu_ms();
        CompiledRuleset c = compile_ruleset(to, at, leg == 0 ? current : next, in_force);
        auto update = set_update_transaction(in_force, c, at);
        if (!update) {
          std::printf("  %-26s replaced, not in place (shape or size of the change)\n", what);
          return;
        }
        double c1 = cpu_ms();
        if (!update->empty()) nft.run(*update);
        auto t1 = Clock::now();
        double c2 = cpu_ms();
        write_fallback_file(state_dir, render_fallback_file(to, c, at));
        if (leg == 0) {
          v.push_back(ms(t0, t1));
          cpu.push_back(c2 - c0);
          nft_cpu.push_back(c2 - c1);
          file_cpu.push_back(cpu_ms() - c2);
          bytes = update->size();
          if (now != t) {
            // At a simulated time the kernel's timeout did not fire: remove the element as it
            // would have (untimed), so the way back can add it again.
            if (auto expired = set_update_transaction(in_force, c, t)) nft.run(*expired);
          }
        }
        in_force = std::move(c);
      }
    }
    std::printf(
        "  %-26s median %7.2f ms wall %7.2f ms CPU (of which nft %5.2f ms), %5zu bytes; "
        "+ fallback file %5.2f ms CPU\n",
        what, median(v), median(cpu), median(nft_cpu), bytes, median(file_cpu));
  };
  NetRules added = current;
  ResolvedException x = current.exceptions.back();
  x.ticket = "T-new";
  x.uids = {40000};
  added.exceptions.push_back(x);
  change("a new exception", added, t);
  NetRules allow = current;
  allow.allow.push_back(allow.allow.front());
  allow.allow.back().to = {{4, "198.51.100.0", 24}};
  change("an allow entry added", allow, t);
  change("exception expires", current, t + 3'600'001);
  NetRules closed = current;
  closed.closed = true;
  change("net close (and open)", closed, t);
  deny_one_packet();
  std::printf(
      "  owned table's counters: %llu packets before the changes, %llu after (kept: more)\n",
      (unsigned long long)before, (unsigned long long)counter_packets(nft));

  // The previous behaviour for the same changes: a fresh compile and both tables replaced.
  std::printf("the same changes by replacing both tables (before set_update; counters reset)\n");
  auto replace = [&](const char* what, const NetRules& next, UnixMillis now) {
    std::vector<double> v, cpu;
    for (int i = 0; i < runs; ++i) {
      auto t0 = Clock::now();
      double c0 = cpu_ms();
      nft.run(full_transaction(next, compile_ruleset(next, now)));
      v.push_back(ms(t0, Clock::now()));
      cpu.push_back(cpu_ms() - c0);
      nft.run(full_transaction(current, compile_ruleset(current, t)));  // back (not timed)
    }
    std::printf("  %-26s median %7.2f ms wall %7.2f ms CPU\n", what, median(v), median(cpu));
  };
  replace("a new exception", added, t);
  replace("an allow entry added", allow, t);
  replace("exception expires", current, t + 3'600'001);
  replace("net close", closed, t);
  std::remove(fallback_file_path(state_dir).c_str());
  rmdir(state_dir.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_net_apply NETNS [RUNS [10k|first|dump FILE]]\n");
    return 2;
  }
  enter_network_namespace(argv[1]);
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  Nft nft;
  std::mt19937 rng(7);
  const std::string mode = argc > 3 ? argv[3] : "";
  const bool only_10k = mode == "10k" || mode == "first" || mode == "dump";
  if (!only_10k)
    std::printf("%-8s %-10s %10s %10s %10s %10s %12s\n", "cidrs", "exceptions", "elements",
                "compile", "apply", "total", "text KiB");
  for (int cidrs : {10, 1000, 10000}) {
    if (only_10k) break;
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
    std::printf("%-8d %-10d %10zu %8.1fms %8.1fms %8.1fms %12zu\n", cidrs, 1000, elements,
                median(compile_ms), median(apply_ms), median(total_ms), bytes / 1024);
  }
  if (!only_10k)
    std::printf(
        "(median of %d runs each; compile = NetRules -> nft text, apply = libnftables transaction "
        "of both tables)\n\n",
        runs);
  std::mt19937 rng10k(10000);
  NetRules big = make_rules(10000, 1000, rng10k);
  if (mode == "dump" && argc > 4) {  // the transaction text, to profile nft on it by hand
    std::ofstream(argv[4]) << full_transaction(big, compile_ruleset(big, 1'800'000'000'000));
    return 0;
  }
  first_apply_vs_anchor(nft, big, rng10k, runs);
  if (mode == "first") return 0;
  in_place_changes(nft, big, runs);
  return 0;
}
