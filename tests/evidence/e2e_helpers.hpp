#pragma once
// seat -> collector end-to-end fixtures: a real seatlockd (--components delivery) recording into
// its spool, a real seatlock-collector on loopback, certificates made at test time.
//
// The seat is set up the way IT deploys it: no --seat-id, the seat id only in a policy file
// (policy.d/90-seat.json, report.seat_id, like policy/examples/90-seat.json), and a hostname
// that differs from the seat id (seatlockd runs in its own UTS namespace).
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.hpp"  // tests/collector: Pki, CollectorProcess, run_cli
#include "os/control/control_server.hpp"
#include "support/process.hpp"  // tests/support: Child, run_command, wait_until

namespace seatlock::evidence {

struct SeatDaemon {
  std::string dir, policy_dir, state_dir, socket, seat_id;
  std::string hostname;  // the daemon's host name: "host-<seat id>"
  std::unique_ptr<seatlock::test::Child> child;

  // Writes policy.d/00-base.json and policy.d/90-seat.json (report.seat_id = seat).
  SeatDaemon(const std::string& base, const std::string& seat);
  ~SeatDaemon();
  // Writes policy.d/50-report.json (the daemon reloads on change).
  void write_report(const nlohmann::json& report);
  void start();
  void kill9();
  nlohmann::json ctl(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object(),
                     int timeout_ms = 120'000);
  // `seatlockctl events --json` rows (each with "status").
  std::vector<nlohmann::json> spool_events(const std::string& extra = "");
  std::size_t count_status(const std::string& status);
  // seatlockctl with --state-dir and --socket of this seat.
  seatlock::test::RunResult seatlockctl(const std::vector<std::string>& args);
};

// A python3 test collector on loopback (fake_collector.py here, tests/fleet's
// replaying_collector.py): `script CERT KEY path extra...` with the test PKI's server certificate;
// it prints its address (...:PORT) once it listens. SIGTERMed and waited for with the object.
struct ScriptServer {
  ScriptServer(const std::string& script, const seatlock::testing::Pki& pki,
               const std::string& path, const std::vector<std::string>& extra = {});
  ~ScriptServer();
  ScriptServer(const ScriptServer&) = delete;
  ScriptServer& operator=(const ScriptServer&) = delete;
  std::string url() const { return "https://127.0.0.1:" + port + "/v1/events"; }
  std::string port;
  pid_t pid = -1;
};

// The JSON lines of a log a test server appends to; a line being written is skipped.
std::vector<nlohmann::json> read_json_lines(const std::string& path);

// tests/evidence/fake_collector.py on loopback with the test PKI's server certificate.
struct FakeCollector {
  std::string log;
  ScriptServer server;

  FakeCollector(const seatlock::testing::Pki& pki, const std::string& log_path,
                const std::vector<std::string>& steps);
  std::string url() const { return server.url(); }
  std::vector<nlohmann::json> requests() const { return read_json_lines(log); }  // one per POST
};

nlohmann::json report_section(const std::string& collector_url, const seatlock::testing::Pki& pki,
                              const seatlock::testing::Pki::Pair& seat);

// How most seat -> collector tests begin: a test PKI with the seat's certificate, a real
// seatlock-collector on loopback storing into <tmp>/collector.db, and a seatlockd (not started
// yet) whose report section names that collector.
struct DeliveringSeat {
  explicit DeliveringSeat(const std::string& seat_id);
  seatlock::testing::TempDir tmp;  // members in construction order
  seatlock::testing::Pki pki;
  seatlock::testing::Pki::Pair cert;
  std::string db;
  seatlock::testing::CollectorProcess collector;
  SeatDaemon seat;
};

// Rows the collector holds for `seat`, ascending seq (seatlock-collector query --json).
std::vector<nlohmann::json> collector_rows(const std::string& db, const std::string& seat);

}  // namespace seatlock::evidence
