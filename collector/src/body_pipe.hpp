#pragma once
// A response body produced piece by piece (an export of millions of rows): a producer thread
// (never an I/O thread) writes into the pipe, the session sends what is queued as HTTP/1.1
// chunks. Memory stays bounded: write() blocks while more than `max_backlog` bytes wait for the
// client. Thread-safe.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace seatlock::collector {

class BodyPipe {
 public:
  explicit BodyPipe(std::size_t max_backlog = 4u << 20) : max_backlog_(max_backlog) {}
  BodyPipe(const BodyPipe&) = delete;
  BodyPipe& operator=(const BodyPipe&) = delete;

  // Producer. Queues `bytes`, blocking while the backlog is full. False once the consumer has
  // gone (client disconnected or too slow): stop producing, nothing more will be sent.
  bool write(std::string bytes);
  // The body is complete: the session sends the terminating chunk.
  void finish();
  // The body cannot be completed: the session closes the connection WITHOUT the terminating
  // chunk, so the client sees a truncated transfer rather than a short but "complete" file.
  void fail(const std::string& why);

  // Consumer (the session).
  enum class Status { data, pending, done, failed };
  // data: up to `max` queued bytes (at least one piece) moved into `out`. pending: nothing yet;
  // `wake` is called once, from the producer's thread, when there is data or an end.
  Status take(std::string& out, std::size_t max, std::function<void()> wake);
  // The consumer has gone: a blocked or later write() returns false.
  void cancel();
  bool cancelled() const;
  std::string failure() const;

 private:
  void wake_consumer(std::unique_lock<std::mutex>& lk);

  const std::size_t max_backlog_;
  mutable std::mutex mu_;
  std::condition_variable space_;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  bool finished_ = false, failed_ = false, cancelled_ = false;
  std::string why_;
  std::function<void()> wake_;
};

}  // namespace seatlock::collector
