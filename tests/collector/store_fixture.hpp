#pragma once
// Stores for the store-parametrised collector tests: a SQLite file, or a fresh database on a
// clickhouse-server that the tests start themselves (config in a temp directory, ports bound by
// this process, never the system service). Plus a `serve --store SPEC` child process.
#include <sys/types.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace seatlock::testing {

// Path of clickhouse-server ("" when it is not installed).
std::string clickhouse_server_binary();

class ClickHouseServer {
 public:
  ClickHouseServer();  // starts it and waits for /ping; throws if it does not come up
  ~ClickHouseServer();
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  pid_t pid() const { return pid_; }  // for CPU figures in benches
  void stop();                        // SIGTERM, then SIGKILL after 15 s
  void restart();                     // same ports and data directory
  // Runs a statement, returns the body (throws on an HTTP error).
  std::string query(const std::string& sql) const;

 private:
  bool launch();  // true once /ping answers
  TempDir dir_;
  pid_t pid_ = -1;
  int http_port_ = 0;
};

// One server for the whole test binary, started on first use; nullptr if not installed.
ClickHouseServer* shared_clickhouse();

// The store kinds every suite runs against.
std::vector<std::string> store_kinds();

// A store for one test: "sqlite" (a file in `dir`) or "clickhouse" (a database of its own).
struct TestStore {
  TestStore(const std::string& kind, const TempDir& dir);
  std::string kind, spec, sqlite_path, database;
  // Tampering as an attacker with write access to the store would (verify must notice);
  // waits until the change is visible.
  void delete_event(const std::string& seat, std::uint64_t seq) const;
  // Replaces `from` by `to` in the stored line (and, if `also_hash`, stores `hash`).
  void edit_line(const std::string& seat, std::uint64_t seq, const std::string& from,
                 const std::string& to) const;
  void set_hash(const std::string& seat, std::uint64_t seq, const std::string& hash) const;
  // Any other tampering: the statement for this store's engine (ClickHouse: an ALTER on
  // DATABASE., which is replaced by the test's database; waits for the mutation).
  void tamper(const std::string& sqlite_sql, const std::string& clickhouse_sql) const;
  std::string ch(const std::string& sql) const;  // a statement on the ClickHouse server
};

// A collector on one of these stores: the harness's process, given the store's spec.
using StoreCollector = CollectorProcess;

}  // namespace seatlock::testing
