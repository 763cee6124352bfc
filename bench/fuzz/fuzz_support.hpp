#pragma once
// Shared helpers for the libFuzzer targets: an invariant check that stops the run with a clear
// message (libFuzzer then writes the input as crash-*), and a reader that splits one fuzz input
// into the several strings a target needs.
#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

namespace seatlock::fuzz {

[[noreturn]] inline void invariant_failed(const char* expr, const char* file, int line,
                                          const std::string& detail) {
  std::fprintf(stderr, "%s:%d: invariant failed: %s\n%s\n", file, line, expr, detail.c_str());
  std::abort();
}

// Names of known findings (reported, not fixed yet) to step over instead of stopping, from
// SEATLOCK_FUZZ_TOLERATE="name,name" (run.sh passes it through; docs/fuzzing.md lists the
// names). Empty by default: every finding stops the target.
inline bool tolerated(const char* name) {
  const char* env = std::getenv("SEATLOCK_FUZZ_TOLERATE");
  if (!env) return false;
  const std::string list = std::string(",") + env + ",";
  return list.find(std::string(",") + name + ",") != std::string::npos;
}

// Splits an input on a separator line "\n--\n" (hand seeds stay readable); the last piece is
// whatever remains. A missing separator yields the whole input and then empty pieces.
class Pieces {
 public:
  Pieces(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}
  std::string next() {
    static constexpr std::string_view kSep = "\n--\n";
    std::size_t at = rest_.find(kSep);
    std::string piece(rest_.substr(0, at));
    rest_ = at == std::string_view::npos ? std::string_view() : rest_.substr(at + kSep.size());
    return piece;
  }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Takes small numbers off the front of an input (for limits, split points), then hands out the
// rest unchanged.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t byte() {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }
  std::string_view rest() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// The collector's connection threads have 256 KiB (collector/src/server.cpp kThreadStack).
// ASan frames are larger (redzones, no frame sharing), so the fuzz build gives twice that: a
// recursion that still overflows it would overflow the release build's 256 KiB as well.
inline constexpr std::size_t kCollectorStack = 512 * 1024;

// Runs fn on a thread with the given stack size, as the collector runs each connection on a
// 256 KiB stack (server.cpp kThreadStack): a recursion that fits 8 MiB but not that is a crash.
inline void run_on_stack(std::size_t stack_bytes, const std::function<void()>& fn) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t t;
  auto body = [](void* p) -> void* {
    (*static_cast<const std::function<void()>*>(p))();
    return nullptr;
  };
  if (pthread_create(&t, &attr, body, const_cast<std::function<void()>*>(&fn)) != 0) std::abort();
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
}

}  // namespace seatlock::fuzz

#define FUZZ_CHECK(expr, detail)                                                        \
  do {                                                                                  \
    if (!(expr)) ::seatlock::fuzz::invariant_failed(#expr, __FILE__, __LINE__, detail); \
  } while (0)
