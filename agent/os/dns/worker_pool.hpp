#pragma once
// A fixed set of threads taking jobs from a bounded queue: the DNS guard answers many clients at
// once, so one slow resolver answer does not hold up another client's query (docs/dns.md
// "Concurrency").
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace seatlock::dns {

class WorkerPool {
 public:
  // `threads` workers; at most `max_queued` jobs wait (beyond that submit() refuses).
  // `on_idle` runs on a worker's thread each time it finds no job left and is about to sleep.
  WorkerPool(std::size_t threads, std::size_t max_queued, std::function<void()> on_idle = {});
  ~WorkerPool();  // runs what is queued, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full (the caller counts the dropped message).
  bool submit(std::function<void()> job);

 private:
  void run();
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::size_t max_queued_;
  std::function<void()> on_idle_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace seatlock::dns
