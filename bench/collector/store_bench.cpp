// The collector's write path without HTTP or TLS: parse_batch (what a connection thread does)
// and the single IngestWriter with group commit into SQLite (synchronous=FULL), fed by many
// threads at once as connections would. Tells whether the writer or the network side limits
// `serve`.
// usage: collector_store_bench [--seats 1000] [--batches 5] [--batch-events 100]
//                              [--submitters 200] [--dir /tmp]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "ingest.hpp"
#include "seat_sim.hpp"
#include "sqlite_store.hpp"
#include "writer.hpp"

using namespace seatlock;
using namespace seatlock::testing;

namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

collector::BatchHeaders headers_of(const Post& p) {
  collector::BatchHeaders h;
  for (const std::string& line : p.headers) {
    auto colon = line.find(':');
    std::string name = line.substr(0, colon), value = line.substr(colon + 2);
    if (name == "X-Seatlock-Key") h.key_b64 = value;
    if (name == "X-Seatlock-Chain-Head") h.chain_head = value;
    if (name == "X-Seatlock-Signature") h.signature_b64 = value;
  }
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t seats = 1000, batches = 5, per_batch = 100, submitters = 200;
  std::string dir_root = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--seats") seats = std::stoul(argv[i + 1]);
    if (k == "--batches") batches = std::stoul(argv[i + 1]);
    if (k == "--batch-events") per_batch = std::stoul(argv[i + 1]);
    if (k == "--submitters") submitters = std::stoul(argv[i + 1]);
    if (k == "--dir") dir_root = argv[i + 1];
  }
  std::vector<std::vector<Post>> posts(seats);
  for (std::size_t s = 0; s < seats; ++s) {
    char id[32];
    std::snprintf(id, sizeof id, "bench-%04zu", s);
    SeatSim sim(id);
    for (std::size_t b = 0; b < batches; ++b)
      posts[s].push_back(sim.post(sim.make(per_batch, "net.egress_denied", "medium")));
  }

  // Step 1: what connection threads do per batch (JSON, schema, canonical check, signature).
  std::vector<std::vector<collector::Batch>> parsed(seats);
  double c0 = cpu_now();
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t s = 0; s < seats; ++s) {
    char id[32];
    std::snprintf(id, sizeof id, "bench-%04zu", s);
    for (const Post& p : posts[s]) {
      auto r = collector::parse_batch(p.body, id, headers_of(p), now_ms());
      if (auto* rej = std::get_if<collector::Rejection>(&r)) {
        std::fprintf(stderr, "parse_batch refused: %s\n", rej->message.c_str());
        return 1;
      }
      parsed[s].push_back(std::move(std::get<collector::Batch>(r)));
    }
  }
  double parse_cpu = cpu_now() - c0;
  double parse_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t total = seats * batches * per_batch;

  // Step 2: the writer, fed by `submitters` threads each owning every submitters-th seat.
  std::string tmpl = dir_root + "/sl-store-bench-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return 1;
  std::filesystem::path dir(buf.data());
  std::atomic<std::size_t> stored{0}, not_applied{0};
  collector::IngestWriter::Stats st;
  double write_s = 0, write_cpu = 0;
  {
    auto store = collector::open_sqlite_store(dir / "bench.db", true, true);
    collector::IngestWriter writer(*store, 1u << 30);
    c0 = cpu_now();
    t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < submitters; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t b = 0; b < batches; ++b)
          for (std::size_t s = t; s < seats; s += submitters) {
            auto o = writer.submit(std::move(parsed[s][b]));
            if (o.kind == collector::WriteOutcome::Kind::applied)
              stored += o.applied.stored;
            else
              ++not_applied;
          }
      });
    }
    for (auto& th : threads) th.join();
    write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    write_cpu = cpu_now() - c0;
    st = writer.stats();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  std::printf("collector store path: %zu seats x %zu batches x %zu events = %zu events\n", seats,
              batches, per_batch, total);
  std::printf(
      "  parse_batch (connection-thread work): %.1f us CPU/event, %.0f events/s on one core\n",
      parse_cpu * 1e6 / total, total / parse_s);
  std::printf(
      "  writer (SQLite, synchronous=FULL, %zu submitting threads): %zu stored in %.2f s = %.0f "
      "events/s; %zu batches not applied\n",
      submitters, stored.load(), write_s, stored / write_s, not_applied.load());
  std::printf(
      "  %llu commits, %.0f events/commit, %.1f ms in store per commit; process CPU %.1f "
      "us/event\n",
      static_cast<unsigned long long>(st.commits),
      st.commits ? static_cast<double>(st.events) / st.commits : 0.0,
      st.commits ? st.commit_seconds * 1e3 / st.commits : 0.0, write_cpu * 1e6 / total);
  std::ifstream la("/proc/loadavg");
  std::string load;
  std::getline(la, load);
  std::printf("  load average at end: %s\n", load.c_str());
  return not_applied == 0 ? 0 : 1;
}
