#pragma once
// Test support: run the real seatlock binaries as child processes.
#include <sys/types.h>

#include <string>
#include <vector>

namespace seatlock::test {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs argv to completion (optionally as another uid/gid), capturing its output.
RunResult run_command(const std::vector<std::string>& argv, uid_t as_uid = 0, gid_t as_gid = 0);

// A background child (e.g. seatlockd). The destructor sends SIGTERM and waits.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv, const std::string& log_path = "");
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  // Sends sig and waits for exit; returns the exit status (128+sig when killed).
  int stop(int sig = 15, int timeout_ms = 10'000);
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Polls until pred() is true or timeout; returns pred()'s last value.
template <class Pred>
bool wait_until(Pred pred, int timeout_ms = 10'000);

// /tmp/seatlock-<tag>-XXXXXX, removed when the process that made it exits.
std::string make_temp_dir(const std::string& tag);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
std::string binary_path(const std::string& relative);  // under SEATLOCK_BINARY_DIR

}  // namespace seatlock::test

#include "support/process_wait.hpp"
