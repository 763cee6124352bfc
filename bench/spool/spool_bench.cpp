// Durable spool appends per second (WAL, synchronous=FULL): one transaction per event vs group
// commit (append_batch) vs concurrent producers sharing commits (1, 8, 64, 256 threads calling
// append(), on the Spool itself and through the ResilientSink seatlockd records into, with the
// append()->durable latency p50/p99). Prints figures; not a test.
//   bench_spool [DIR] [GROUP_EVENTS] [PRODUCER_SCALE]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "os/spool/resilient_sink.hpp"
#include "os/spool/spool.hpp"

using namespace seatlock;
using Clock = std::chrono::steady_clock;

namespace {

Event sample(int n) {
  Event e;
  e.seat_id = "cc-bj-03-117";
  e.hostname = "seat117";
  e.user = UserRef{"zhang.wei", 1001};
  e.kind = "usb.blocked";
  e.severity = "high";
  e.outcome = "blocked";
  e.mode = "enforce";
  e.policy_sha256 = std::string(64, 'a');
  e.rule = "usb.classes";
  e.details = {{"vid", "0951"},
               {"pid", "1666"},
               {"serial", std::to_string(n)},
               {"product", "DataTraveler 3.0"},
               {"port", "1-2"},
               {"interfaces",
                {{{"n", 0},
                  {"class", "08"},
                  {"subclass", "06"},
                  {"protocol", "50"},
                  {"authorized", false}}}}};
  return e;
}

double rate(std::size_t n, Clock::duration d) {
  return n / std::chrono::duration<double>(d).count();
}

// Process CPU seconds: on a shared, overloaded machine events per CPU-second is the steadier
// figure; wall-clock rates are printed too.
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::string fresh(const std::string& dir, const std::string& name) {
  std::string p = dir + "/" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  std::size_t group_events = argc > 2 ? std::stoul(argv[2]) : 200'000;
  // Percent of the default events per producer run (100 = 2,000 / 8,000 / 12,800 / 51,200).
  std::size_t scale = argc > 3 ? std::stoul(argv[3]) : 100;
  const std::uint64_t kMax = 4ULL << 30;  // no overflow during the run

  {
    Spool spool(fresh(dir, "bench-one.db"), kMax);
    const std::size_t n = 2000;
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) spool.append(sample(static_cast<int>(i)));
    std::printf("one-by-one      : %8zu events  %10.0f events/s (one fsync'd transaction each)\n",
                n, rate(n, Clock::now() - t0));
  }
  for (std::size_t batch : {100, 1000, 5000}) {
    Spool spool(fresh(dir, "bench-group.db"), kMax);
    std::vector<Event> drafts;
    for (std::size_t i = 0; i < batch; ++i) drafts.push_back(sample(static_cast<int>(i)));
    std::vector<std::vector<Event>> copies(group_events / batch,
                                           drafts);  // copied outside the timing
    auto t0 = Clock::now();
    double c0 = cpu_now();
    for (auto& c : copies) spool.append_batch(std::move(c));
    std::printf("group commit %4zu: %8zu events  %10.0f events/s wall  %10.0f events/CPU-s\n",
                batch, copies.size() * batch, rate(copies.size() * batch, Clock::now() - t0),
                copies.size() * batch / (cpu_now() - c0));
  }
  // Producers calling append() concurrently: each call returns once its event is committed
  // (fsync'd) in a transaction it shares with whoever else was waiting. Latency = append() call
  // to return, i.e. to the fsync that made the event durable.
  for (bool through_sink : {false, true})
    for (int threads : {1, 8, 64, 256}) {
      Spool spool(fresh(dir, "bench-threads.db"), kMax);
      ResilientSink sink(spool);
      EventSink& target = through_sink ? static_cast<EventSink&>(sink) : spool;
      const std::size_t each = std::max<std::size_t>(1, scale *
                                                            (threads == 1    ? 2000
                                                             : threads >= 64 ? 200
                                                                             : 1000) /
                                                            100);
      std::vector<std::vector<double>> lat(threads);
      auto t0 = Clock::now();
      double c0 = cpu_now();
      std::vector<std::thread> ts;
      for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
          lat[t].reserve(each);
          for (std::size_t i = 0; i < each; ++i) {
            Event e = sample(static_cast<int>(i));
            auto a = Clock::now();
            target.append(std::move(e));
            lat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
          }
        });
      for (auto& t : ts) t.join();
      const auto wall = Clock::now() - t0;
      const double cpu = cpu_now() - c0;
      std::vector<double> all;
      for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
      std::sort(all.begin(), all.end());
      std::printf(
          "%-6s %3d producers, append() each: %6zu events %8.0f events/s wall %8.0f events/CPU-s"
          "  append->durable p50 %7.0f us  p99 %7.0f us\n",
          through_sink ? "sink" : "spool", threads, all.size(), rate(all.size(), wall),
          all.size() / cpu, all[all.size() / 2], all[all.size() * 99 / 100]);
    }
  for (const char* n : {"bench-one.db", "bench-group.db", "bench-threads.db"}) fresh(dir, n);
  return 0;
}
