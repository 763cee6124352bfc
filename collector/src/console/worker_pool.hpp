#pragma once
// A few threads for the console's blocking work (password hashing, store queries, fleet
// actions), so the server's I/O threads never wait on a disk, a ClickHouse round trip or
// Argon2id. Jobs run in submission order; the destructor finishes queued jobs, then joins.
// Threads start when work arrives (up to `threads`), so a collector whose console nobody uses
// holds none: a fleet's collector is mostly held long-polls and the writer.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace seatlock::collector::console {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  void submit(std::function<void()> job);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  int max_threads_ = 0;
  int idle_ = 0;  // threads waiting for a job
  std::vector<std::thread> threads_;
};

}  // namespace seatlock::collector::console
