#pragma once
// Real-process harness for collector tests: a throw-away PKI made with the openssl CLI, a
// `seatlock-collector serve` child on a loopback port, a libcurl client and CLI runs.
#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

#include "seat_sim.hpp"

namespace seatlock::testing {

std::string collector_binary();

struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// CA "test-ca" signing the server certificate (127.0.0.1) and seat certificates (CN = seat id);
// a second, unrelated CA for "invalid certificate" cases.
struct Pki {
  explicit Pki(const TempDir& dir);
  std::string ca, server_cert, server_key;
  struct Pair {
    std::string cert, key;
  };
  Pair seat(const std::string& seat_id);        // signed by test-ca
  Pair rogue_seat(const std::string& seat_id);  // signed by the unrelated CA
  // Replaces server_cert/server_key in place with a new pair for `cn` (same CA, same SANs).
  void renew_server(const std::string& cn);

 private:
  std::string dir_;
};

class CollectorProcess {
 public:
  // store: a SQLite path (--db) or a store spec "sqlite:PATH" / "clickhouse:URL" (--store).
  // extra: e.g. {"--tokens-only"}.
  CollectorProcess(const std::string& store, const Pki& pki,
                   const std::vector<std::string>& extra = {});
  ~CollectorProcess();
  std::string url(const std::string& path = "/v1/events") const;
  // Sends `sig` and waits; returns the exit status, or 128 + the signal that ended it.
  int stop(int sig = 15);
  // Sends `sig` again and again (every 100 us) until the process has exited, as an operator
  // who presses Ctrl-C twice or a `kill` after `systemctl stop` does; returns as stop() does.
  int stop_repeating(int sig = 15);
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // Still running (not exited or crashed)?
  bool alive();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct HttpResult {
  long status = 0;  // 0 = transport/TLS failure
  std::string body;
  std::string error;  // curl error text when status == 0
};

struct ClientAuth {
  std::string cert, key;  // client certificate (optional)
  std::string token;      // bearer token (optional)
};

HttpResult post_events(const std::string& url, const std::string& ca, const ClientAuth& auth,
                       const Post& p, bool gzip = true);
HttpResult http_get(const std::string& url, const std::string& ca);

// Starts argv[0] with argv, its stdout on a pipe (stderr passes through). Returns the pid and
// the pipe's read end; the caller reads the first lines ("listening ADDR:PORT") and fcloses it.
struct SpawnedProcess {
  pid_t pid = -1;
  FILE* out = nullptr;
};
SpawnedProcess spawn_reading_stdout(std::vector<std::string> argv);
// The port of a line "<prefix>HOST:PORT\n", or 0 when the line is not that.
int port_after(const std::string& line, const std::string& prefix);

struct CliResult {
  int exit_code = -1;
  std::string out;
};
// Runs seatlock-collector with args; stdout captured, stderr passed through.
CliResult run_cli(const std::vector<std::string>& args);

// Resident memory of a process in KiB (VmRSS in /proc/PID/status); 0 if unknown.
long rss_kib(pid_t pid);

// sqlite3 statement against the db file (test tampering); returns sqlite3_changes().
int sql_exec(const std::string& db, const std::string& sql);

}  // namespace seatlock::testing
