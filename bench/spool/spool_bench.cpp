// Durable spool appends per second (WAL, synchronous=FULL): one transaction per event vs group
// commit (append_batch) vs concurrent producers sharing commits (1, 8, 64, 256 threads calling
// append(), on the Spool itself and through the ResilientSink seatlockd records into, with the
// append()->durable latency p50/p99), and producers that queue with submit() and wait on their
// Pending later, and producers reporting the way seatlockd's do (Reporter::report -> ResilientSink
// ::post, not waiting for the disk). Prints figures; not a test.
//   bench_spool [DIR] [GROUP_EVENTS] [PRODUCER_SCALE] [PART...]
// PART: serial (one-by-one and group commit), append, sink, submit, reporter; all of them when
// none given. Not in "all": inflight (reporter with max_in_flight 16384 / 4096 / 2048 / 1024).
//
// A producer that waits for durability has at most one event in flight, so N such producers
// store at most N / (commit latency) events a second, and a commit cannot be faster than one
// fdatasync of DIR's disk: the first line measures that and prints the ceiling for 8 and 64.
#include <fcntl.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "os/events/reporter.hpp"
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

double pct(std::vector<double>& v, int p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, v.size() * p / 100)];
}

// Latency of overwriting 4 KiB of a file and fdatasync()ing it (as a commit does once the WAL
// no longer grows): about the least a durable commit costs on this disk.
void print_fsync_floor(const std::string& dir) {
  std::string p = dir + "/bench-fsync.tmp";
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::string page(4096, 'x');
  std::vector<double> us;
  bool ok = ::pwrite(fd, page.data(), page.size(), 0) == static_cast<ssize_t>(page.size()) &&
            ::fsync(fd) == 0;
  for (int i = 0; ok && i < 200; ++i) {
    auto a = Clock::now();
    if (::pwrite(fd, page.data(), page.size(), 0) != static_cast<ssize_t>(page.size()) ||
        ::fdatasync(fd) != 0)
      break;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
  }
  ::close(fd);
  std::filesystem::remove(p);
  double p50 = pct(us, 50);
  std::printf(
      "fdatasync of 4 KiB: p50 %6.0f us  p99 %6.0f us -> ceiling for producers waiting on each "
      "event: 8: %6.0f/s  64: %7.0f/s\n",
      p50, pct(us, 99), p50 > 0 ? 8e6 / p50 : 0, p50 > 0 ? 64e6 / p50 : 0);
}

// Producers that submit() one event per call and keep up to `window` Pendings each, waiting on
// the oldest when the window is full. Latency = submit() call to its wait() returning.
void bench_submit(const std::string& path, int threads, std::size_t each, std::size_t window) {
  Spool spool(path, 4ULL << 30);
  std::vector<std::vector<double>> lat(threads);
  auto t0 = Clock::now();
  double c0 = cpu_now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      lat[t].reserve(each);
      std::deque<std::pair<Clock::time_point, Spool::Pending>> inflight;
      auto finish_oldest = [&] {
        inflight.front().second.wait();
        lat[t].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - inflight.front().first)
                .count());
        inflight.pop_front();
      };
      for (std::size_t i = 0; i < each; ++i) {
        std::vector<Event> one;
        one.push_back(sample(static_cast<int>(i)));
        auto a = Clock::now();
        inflight.emplace_back(a, spool.submit(std::move(one)));
        if (inflight.size() >= window) finish_oldest();
      }
      while (!inflight.empty()) finish_oldest();
    });
  for (auto& t : ts) t.join();
  const auto wall = Clock::now() - t0;
  const double cpu = cpu_now() - c0;
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::printf(
      "spool  %3d producers, submit() window %3zu: %6zu events %8.0f events/s wall %8.0f "
      "events/CPU-s  submit->durable p50 %7.0f us  p99 %7.0f us\n",
      threads, window, all.size(), rate(all.size(), wall), all.size() / cpu, pct(all, 50),
      pct(all, 99));
}

// Producers calling Reporter::report() over the ResilientSink over the Spool, as seatlockd's do:
// report() returns without waiting, the sink's drainer settles the commits. Rate = events until
// the last is durable (flush()); latency = report() call to the drainer seeing its commit done.
void bench_reporter(const std::string& path, int threads, std::size_t each,
                    std::size_t max_in_flight = BacklogLimits{}.max_in_flight) {
  Spool spool(path, 4ULL << 30);
  BacklogLimits limits;
  limits.max_in_flight = max_in_flight;
  ResilientSink sink(spool, limits);
  std::vector<double> lat;
  lat.reserve(threads * each);
  sink.on_durable([&](std::size_t events, ResilientSink::Clock::time_point submitted) {
    double us = std::chrono::duration<double, std::micro>(Clock::now() - submitted).count();
    lat.insert(lat.end(), events, us);  // the drainer's thread, under the sink's lock
  });
  Reporter reporter(sink, SeatIdentity{"cc-bj-03-117", "seat117"}, [] {
    return std::optional<UserRef>(UserRef{"zhang.wei", 1001});
  });
  auto t0 = Clock::now();
  double c0 = cpu_now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (std::size_t i = 0; i < each; ++i) reporter.report(sample(static_cast<int>(i)));
    });
  for (auto& t : ts) t.join();
  sink.flush();
  const auto wall = Clock::now() - t0;
  const double cpu = cpu_now() - c0;
  std::printf(
      "reporter/sink %3d producers, report() -> post(), max_in_flight %5zu: %6zu events %8.0f "
      "events/s wall %8.0f events/CPU-s  submit->durable p50 %7.0f us  p99 %7.0f us  (%s)\n",
      threads, max_in_flight, lat.size(), rate(lat.size(), wall), lat.size() / cpu, pct(lat, 50),
      pct(lat, 99), sink.status()["state"].get<std::string>().c_str());
}

// The file system DIR is on: tmpfs never waits for a disk.
const char* fs_name(const std::string& dir) {
  struct statfs st {};
  if (statfs(dir.c_str(), &st) != 0) return "unknown";
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0xEF53:
      return "ext2/3/4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs";
    case 0x794C7630:
      return "overlayfs";
    default:
      return "other";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  std::size_t group_events = argc > 2 ? std::stoul(argv[2]) : 200'000;
  // Percent of the default events per producer run (100 = 2,000 / 8,000 / 12,800 / 51,200
  // through append(); 40,000 through submit()).
  std::size_t scale = argc > 3 ? std::stoul(argv[3]) : 100;
  std::vector<std::string> parts(argv + std::min(argc, 4), argv + argc);
  auto run = [&](const char* part) {
    return parts.empty() || std::find(parts.begin(), parts.end(), part) != parts.end();
  };
  const std::uint64_t kMax = 4ULL << 30;  // no overflow during the run
  std::printf("dir %s (%s)\n", dir.c_str(), fs_name(dir));
  print_fsync_floor(dir);

  if (run("serial")) {
    Spool spool(fresh(dir, "bench-one.db"), kMax);
    const std::size_t n = 2000;
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) spool.append(sample(static_cast<int>(i)));
    std::printf("one-by-one      : %8zu events  %10.0f events/s (one fsync'd transaction each)\n",
                n, rate(n, Clock::now() - t0));
  }
  for (std::size_t batch : {100, 1000, 5000}) {
    if (!run("serial")) break;
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
      if (!run(through_sink ? "sink" : "append")) break;
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
  for (int threads : {1, 8, 64})
    if (run("submit"))
      bench_submit(fresh(dir, "bench-threads.db"), threads,
                   std::max<std::size_t>(1, scale * 40'000 / 100 / threads), 64);
  for (int threads : {1, 8, 64})
    if (run("reporter"))
      bench_reporter(fresh(dir, "bench-threads.db"), threads,
                     std::max<std::size_t>(1, scale * 40'000 / 100 / threads));
  // The sink's back-pressure bound against latency and throughput (BacklogLimits::max_in_flight).
  if (std::find(parts.begin(), parts.end(), "inflight") != parts.end())
    for (std::size_t max_in_flight : {16384, 4096, 2048, 1024})
      for (int threads : {1, 8, 64})
        bench_reporter(fresh(dir, "bench-threads.db"), threads,
                       std::max<std::size_t>(1, scale * 40'000 / 100 / threads), max_in_flight);
  for (const char* n : {"bench-one.db", "bench-group.db", "bench-threads.db"}) fresh(dir, n);
  return 0;
}
