#pragma once
// What the collector benches share: per-process CPU and memory from /proc, the load average,
// and the store a bench runs against (a SQLite file, or a clickhouse-server of the bench's own
// started like the store tests do, or one given by URL).
#include <sys/types.h>

#include <memory>
#include <string>

#include "harness.hpp"
#include "store_fixture.hpp"

namespace seatlock::bench {

// utime + stime of a process, in seconds (0 when it is gone).
double cpu_seconds(pid_t pid);
// A "VmRSS:"/"VmHWM:" field of /proc/PID/status in KiB (-1 when unreadable).
long status_kb(pid_t pid, const char* field);
// The first line of /proc/loadavg.
std::string load_average();

// `--store` of a bench: "sqlite" (a file in `dir`), "clickhouse" (a clickhouse-server started
// here, config in a temp directory, database "bench") or "clickhouse:URL" (an existing server;
// the database named in the URL, default "seatlock", must be fresh).
class BenchStore {
 public:
  BenchStore(const std::string& option, const testing::TempDir& dir);
  bool clickhouse() const { return spec_.rfind("clickhouse:", 0) == 0; }
  const std::string& spec() const { return spec_; }  // for `serve --store`, `verify --store`
  std::string sqlite_path() const { return sqlite_path_; }
  // The clickhouse-server this bench started (-1 otherwise).
  pid_t server_pid() const { return server_ ? server_->pid() : -1; }
  // Registers enrollment tokens (sha256 hashes) for seats in one write.
  void add_tokens(const std::vector<std::pair<std::string, std::string>>& hash_and_seat) const;
  std::string describe() const;
  // With SEATLOCK_CLICKHOUSE_LOG_QUERIES=1 and a server of our own: the statements that took
  // the server's time, grouped by their first words (count, total ms, rows and bytes read).
  std::string query_log_summary() const;

 private:
  std::unique_ptr<testing::ClickHouseServer> server_;
  std::string spec_, sqlite_path_;
};

}  // namespace seatlock::bench
