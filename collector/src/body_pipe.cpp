#include "body_pipe.hpp"

namespace seatlock::collector {

void BodyPipe::wake_consumer(std::unique_lock<std::mutex>& lk) {
  auto wake = std::move(wake_);
  wake_ = nullptr;
  lk.unlock();  // the callback posts to the session's strand; never call it under the lock
  if (wake) wake();
}

bool BodyPipe::write(std::string bytes) {
  std::unique_lock lk(mu_);
  space_.wait(lk, [&] { return cancelled_ || queued_ < max_backlog_; });
  if (cancelled_ || finished_ || failed_) return false;
  if (bytes.empty()) return true;
  queued_ += bytes.size();
  queue_.push_back(std::move(bytes));
  wake_consumer(lk);
  return true;
}

void BodyPipe::finish() {
  std::unique_lock lk(mu_);
  if (finished_ || failed_) return;
  finished_ = true;
  wake_consumer(lk);
}

void BodyPipe::fail(const std::string& why) {
  std::unique_lock lk(mu_);
  if (finished_ || failed_) return;
  failed_ = true;
  why_ = why;
  wake_consumer(lk);
}

BodyPipe::Status BodyPipe::take(std::string& out, std::size_t max, std::function<void()> wake) {
  std::unique_lock lk(mu_);
  if (failed_) return Status::failed;  // queued bytes are dropped: the transfer ends truncated
  if (queue_.empty()) {
    if (finished_) return Status::done;
    wake_ = std::move(wake);
    return Status::pending;
  }
  out.clear();
  while (!queue_.empty() && (out.empty() || out.size() + queue_.front().size() <= max)) {
    if (out.empty())
      out = std::move(queue_.front());
    else
      out += queue_.front();
    queue_.pop_front();
  }
  queued_ -= out.size();
  lk.unlock();
  space_.notify_all();
  return Status::data;
}

void BodyPipe::cancel() {
  {
    std::lock_guard lk(mu_);
    cancelled_ = true;
    wake_ = nullptr;
    queue_.clear();
    queued_ = 0;
  }
  space_.notify_all();
}

bool BodyPipe::cancelled() const {
  std::lock_guard lk(mu_);
  return cancelled_;
}

std::string BodyPipe::failure() const {
  std::lock_guard lk(mu_);
  return why_;
}

}  // namespace seatlock::collector
