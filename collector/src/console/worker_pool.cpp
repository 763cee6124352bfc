#include "console/worker_pool.hpp"

#include <cstdio>
#include <exception>

namespace seatlock::collector::console {

WorkerPool::WorkerPool(int threads) : max_threads_(threads < 1 ? 1 : threads) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(job));
    if (idle_ < static_cast<int>(jobs_.size()) && static_cast<int>(threads_.size()) < max_threads_)
      threads_.emplace_back([this] { run(); });
  }
  cv_.notify_one();
}

void WorkerPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lk(mu_);
      ++idle_;
      cv_.wait(lk, [&] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      // Jobs answer their own errors; this is a bug, but it must not end the collector.
      std::fprintf(stderr, "seatlock-collector: console job failed: %s\n", e.what());
    }
  }
}

}  // namespace seatlock::collector::console
