// "Internet off" for a group of connected seats (issue 14, docs/fleet.md "Figures"): a real
// `seatlock-collector serve --bundles` holds the long polls of N simulated seats
// (sim_seat_crowd.hpp) and K real seatlockd in network namespaces (real_seats.hpp), all in group
// floor-1 with version 1 in force; then `seatlock-collector net close --group floor-1` runs and
// the bench measures, from the moment the command starts:
//   simulated seats: bundle verified and `policy.applied` v2 stored by the collector (its 200);
//   real seats: the closing ruleset in force in the seat's namespace (chain allow_out of
//   `nft list ruleset` looking only in the essential sets), and `policy.applied` v2 received by
//   the collector.
// Everything runs in a network namespace of its own (never the host's). Needs root.
//
// usage: fleet_internet_off_bench [--sim N] [--real K] [--goal-s 5] [--require-pct 99]
//   exits 1 when fewer than --require-pct % of the seats (of each kind) made it within --goal-s
//   (the ctest `fleet_internet_off_small` runs --sim 50 --real 1).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/util/digest.hpp"
#include "harness.hpp"
#include "os/sqlite/sqlite.hpp"
#include "real_seats.hpp"
#include "signing.hpp"
#include "sim_seat_crowd.hpp"
#include "sqlite_store.hpp"
#include "storm_netns.hpp"

using namespace seatlock;
using namespace seatlock::bench;
namespace tg = seatlock::testing;
namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kGroup = "floor-1";
constexpr const char* kNonEssential = "10.30.0.0/16";  // suspended while closed

// Is the closing ruleset in force: the owned table's chain allow_out looks in the essential sets
// only. (Close changes which sets the chain looks in, not their elements: docs/network.md.)
bool closed_in_force(const std::string& ruleset) {
  const auto table = ruleset.find("table inet seatlock {");
  if (table == std::string::npos) return false;
  const auto chain = ruleset.find("chain allow_out {", table);
  if (chain == std::string::npos) return false;
  const std::string rules = ruleset.substr(chain, ruleset.find("\n\t}", chain) - chain);
  return rules.find("@ess4") != std::string::npos && rules.find("@base4") == std::string::npos;
}

struct Options {
  std::size_t sim = 1000, real = 3;
  double goal_s = 5, require_pct = 99;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--sim")
      o.sim = std::stoul(v);
    else if (k == "--real")
      o.real = std::stoul(v);
    else if (k == "--goal-s")
      o.goal_s = std::stod(v);
    else if (k == "--require-pct")
      o.require_pct = std::stod(v);
    else
      throw std::runtime_error("unknown option " + k);
  }
  if ((argc - 1) % 2)
    throw std::runtime_error("usage: [--sim N] [--real K] [--goal-s S] [--require-pct P]");
  return o;
}

void put(const std::string& path, const json& doc) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << doc.dump(2) << "\n";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

UnixMillis wall_ms() {
  return tg::now_ms();
}

// `serve` on every address of the bench's namespace (the real seats dial 10.77.0.1). Its output
// is read on: when it reports a new version of the bundles (it took up the publish).
struct Collector {
  pid_t pid = -1;
  int port = 0;
  std::atomic<SteadyClock::rep> took_up_v2{0};
  std::thread reader;
  explicit Collector(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<std::string> a = args;
      std::vector<char*> av;
      for (auto& s : a) av.push_back(s.data());
      av.push_back(nullptr);
      execv(av[0], av.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* f = fdopen(fds[0], "r");
    char line[1024] = {};
    while (port == 0 && fgets(line, sizeof line, f)) {
      std::string l = line;  // "...listening on 0.0.0.0:PORT, store ..."
      auto at = l.find("listening on ");
      if (at != std::string::npos) port = std::stoi(l.substr(l.find(':', at) + 1));
    }
    if (port == 0) throw std::runtime_error("collector did not start");
    reader = std::thread([this, f] {
      char buf[1024];
      while (fgets(buf, sizeof buf, f)) {
        std::fputs(buf, stderr);  // the collector's own log, as it runs
        if (std::string(buf).find("fleet bundles version 2 ") != std::string::npos)
          took_up_v2 = SteadyClock::now().time_since_epoch().count();
      }
      fclose(f);
    });
  }
  ~Collector() {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    reader.join();
  }
};

// When the collector received `seat`'s policy.applied for `version` (its clock), or 0.
UnixMillis acked_at(const std::string& db, const std::string& seat, std::uint64_t version) {
  seatlock::sql::Db d(db, seatlock::sql::Db::Open::ReadOnly);
  seatlock::sql::Stmt st(d,
                         "SELECT received_ms, line FROM events WHERE seat_id = ?1 AND kind = "
                         "'policy.applied' ORDER BY received_ms");
  st.bind(1, seat);
  while (st.step()) {
    auto j = json::parse(st.text(1), nullptr, false);
    auto p = json::json_pointer("/details/fleet/version");
    if (j.is_object() && j.contains(p) && j[p] == version) return st.i64(0);
  }
  return 0;
}

struct Figures {
  std::size_t n = 0, within = 0, missing = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Figures figures(std::vector<double> s, double goal) {
  Figures f;
  f.n = s.size();
  std::vector<double> ok;
  for (double v : s)
    if (v >= 0) ok.push_back(v);
  f.missing = s.size() - ok.size();
  std::sort(ok.begin(), ok.end());
  for (double v : ok) f.within += v <= goal;
  auto pct = [&](double q) {
    if (ok.empty()) return -1.0;
    // Missing seats count as slowest: a percentile over all seats, not only those that made it.
    std::size_t idx = static_cast<std::size_t>(q * static_cast<double>(s.size() - 1) + 0.5);
    return idx < ok.size() ? ok[idx] : -1.0;
  };
  f.p50 = pct(0.50);
  f.p99 = pct(0.99);
  f.max = f.missing || ok.empty() ? -1.0 : ok.back();
  return f;
}

std::string show(const Figures& f, double goal) {
  char b[256];
  auto v = [](double x) {
    return x < 0 ? std::string("n/a") : std::to_string(x).substr(0, 5) + " s";
  };
  std::snprintf(b, sizeof b, "%zu seats: p50 %s, p99 %s, max %s; within %.0f s: %zu (%.1f %%)%s",
                f.n, v(f.p50).c_str(), v(f.p99).c_str(), v(f.max).c_str(), goal, f.within,
                f.n ? 100.0 * static_cast<double>(f.within) / static_cast<double>(f.n) : 0.0,
                f.missing ? (", " + std::to_string(f.missing) + " never").c_str() : "");
  return b;
}

int run(const Options& o) {
  // Listen-queue limits as the package ships them (1,000 handshakes at once), in our namespace.
  tg::enter_own_netns(tg::read_sysctl_file(tg::shipped_collector_sysctl_file()));
  tg::TempDir dir;
  tg::Pki pki(dir);
  // The collector's certificate for the addresses seats dial (same CA as the test PKI).
  must_sh("cd " + dir.path +
          " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
          "srv.key -out srv.csr -subj /CN=collector.test 2>/dev/null && printf "
          "'subjectAltName=IP:127.0.0.1,IP:" +
          std::string(kBenchAddr) +
          "\\n' > srv.ext && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
          "-CAcreateserial -out srv.pem -days 2 -extfile srv.ext 2>/dev/null");
  RealSeats real(dir, o.real);

  // The fleet: every seat in floor-1; an essential and a non-essential allow entry.
  const std::string tree = dir / "tree", key = dir / "fleet.key", bundles = dir / "bundles",
                    db = dir / "collector.db";
  std::vector<CrowdSeat> crowd(o.sim);
  std::vector<std::string> ids = real.ids();
  for (std::size_t i = 0; i < o.sim; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "sim-%05zu", i);
    crowd[i].id = id;
    crowd[i].source = "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    ids.push_back(id);
  }
  put(tree + "/groups.json", {{"seats", ids}, {"groups", {{{"name", kGroup}, {"match", {"*"}}}}}});
  put(tree + "/all/10-base.json", json::parse(R"({"network": {"mode": "enforce", "allow": [
        {"to": "10.20.0.0/16", "ports": [443], "proto": "tcp", "essential": true, "comment": "CRM"},
        {"to": "10.30.0.0/16", "ports": [443], "proto": "tcp", "comment": "web"}]}})"));
  must_sh(tg::collector_binary() + " fleet keygen --out " + key);
  must_sh(tg::collector_binary() + " fleet publish --tree " + tree + " --key " + key +
          " --bundles " + bundles);
  std::string pin = slurp(key + ".pub");
  pin = pin.substr(0, pin.find('\n'));

  // Tokens for the crowd, straight into the store's token table (as the storm bench does).
  {
    auto store = collector::open_sqlite_store(db, true);
    store.reset();
    seatlock::sql::Db tokens_db(db);
    tokens_db.exec("BEGIN");
    seatlock::sql::Stmt ins(tokens_db,
                            "INSERT INTO tokens(token_hash, seat_id, created_ms) VALUES(?1,?2,0)");
    for (auto& s : crowd) {
      s.token = collector::new_enrollment_token();
      ins.bind(1, sha256_hex(s.token)).bind(2, s.id).run();
    }
    tokens_db.exec("COMMIT");
  }
  Collector serve({tg::collector_binary(), "serve", "--listen", "0.0.0.0:0", "--db", db, "--cert",
                   dir / "srv.pem", "--key", dir / "srv.key", "--ca", pki.ca, "--bundles", bundles,
                   "--max-connections", std::to_string(o.sim + 1000)});
  const std::string url = "https://" + std::string(kBenchAddr) + ":" + std::to_string(serve.port);
  real.start(pki, url, pin);

  // Real seats ready: version 1 in force (its non-essential entry in the ruleset) and acked.
  auto ready_by = SteadyClock::now() + std::chrono::seconds(60);
  for (std::size_t i = 0; i < o.real; ++i) {
    while (real.ruleset(i).find(kNonEssential) == std::string::npos ||
           !acked_at(db, real.seats()[i].id, 1)) {
      if (SteadyClock::now() > ready_by)
        throw std::runtime_error(real.seats()[i].id + " did not apply version 1: " + real.log(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  SimSeatCrowd sims(crowd, serve.port, pki.ca, pin, 1, 2, 120);
  sims.connect_all();
  std::cout << o.sim << " simulated seats polling, " << o.real
            << " real seatlockd with version 1 in force\n";
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the last polls reach the server

  // The command.
  std::vector<double> nft_s(o.real, -1), real_ack_s(o.real, -1);
  std::vector<std::thread> watchers;
  const UnixMillis t0_wall = wall_ms();
  const auto t0 = SteadyClock::now();
  sims.start_clock();
  for (std::size_t i = 0; i < o.real; ++i)
    watchers.emplace_back([&, i] {
      // Only the ruleset is polled (two processes a look, every 50 ms: the resolution of this
      // figure); the acknowledgement's time is in the store (received_ms), read afterwards, so
      // the measuring does not take the CPU the seats and the collector need.
      auto until = t0 + std::chrono::seconds(60);
      while (SteadyClock::now() < until) {
        if (closed_in_force(real.ruleset(i))) {
          nft_s[i] = std::chrono::duration<double>(SteadyClock::now() - t0).count();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  std::string cmd_out = must_sh(tg::collector_binary() + " net close --group " + kGroup +
                                " --ticket BENCH-1 --by bench --db " + db + " --tree " + tree +
                                " --key " + key + " --bundles " + bundles);
  double cmd_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  auto outcomes = sims.finish();
  for (auto& w : watchers) w.join();
  // The real seats' acknowledgements: when the collector received policy.applied v2.
  for (std::size_t i = 0; i < o.real; ++i) {
    UnixMillis at = 0;
    auto by = SteadyClock::now() + std::chrono::seconds(30);
    while (!(at = acked_at(db, real.seats()[i].id, 2)) && SteadyClock::now() < by)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (at) real_ack_s[i] = static_cast<double>(at - t0_wall) / 1000.0;
  }

  std::vector<double> sim_s, sim_bundle_s, sim_sent_s;
  std::map<std::string, std::size_t> errors;
  for (const auto& oc : outcomes) {
    sim_s.push_back(oc.ack_s);
    sim_bundle_s.push_back(oc.bundle_s);
    sim_sent_s.push_back(oc.sent_s);
    if (!oc.error.empty()) ++errors[oc.error.substr(0, 80)];
  }
  const double took_up_s =
      std::chrono::duration<double>(
          SteadyClock::duration(serve.took_up_v2.load() - t0.time_since_epoch().count()))
          .count();
  std::cout << "net close --group " << kGroup << " (" << ids.size() << " seats): command " << cmd_s
            << " s; the serving collector took up version 2 at " << took_up_s << " s\n";
  auto fs_ = figures(sim_s, o.goal_s), fn = figures(nft_s, o.goal_s),
       fa = figures(real_ack_s, o.goal_s);
  std::cout << "simulated, bundle received:                  "
            << show(figures(sim_bundle_s, o.goal_s), o.goal_s) << "\n";
  std::cout << "simulated, bundle verified, ack sent:        "
            << show(figures(sim_sent_s, o.goal_s), o.goal_s) << "\n";
  std::cout << "simulated, bundle verified and acknowledged: " << show(fs_, o.goal_s) << "\n";
  std::cout << "real, closing ruleset in force (nft):       " << show(fn, o.goal_s) << "\n";
  std::cout << "real, policy.applied v2 at the collector:   " << show(fa, o.goal_s) << "\n";
  for (const auto& [e, n] : errors) std::cout << "  " << n << " simulated seats: " << e << "\n";
  auto pct = [](const Figures& f) {
    return f.n ? 100.0 * static_cast<double>(f.within) / static_cast<double>(f.n) : 100.0;
  };
  bool met = pct(fs_) >= o.require_pct && pct(fn) >= o.require_pct && pct(fa) >= o.require_pct;
  std::cout << (met ? "goal met" : "GOAL MISSED") << ": " << o.require_pct << " % within "
            << o.goal_s << " s\n";
  if (!met)
    for (std::size_t i = 0; i < o.real; ++i)
      if (nft_s[i] < 0 || real_ack_s[i] < 0)
        std::cout << real.seats()[i].id << " log:\n" << real.log(i);
  return met ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "fleet_internet_off_bench: " << e.what() << "\n";
    return 2;
  }
}
