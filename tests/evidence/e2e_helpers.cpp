#include "e2e_helpers.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace seatlock::evidence {

using nlohmann::json;
namespace t = seatlock::test;

SeatDaemon::SeatDaemon(const std::string& base, const std::string& seat)
    : dir(base + "/seat-" + seat),
      policy_dir(dir + "/policy.d"),
      state_dir(dir + "/state"),
      socket(dir + "/control.sock"),
      seat_id(seat),
      hostname("host-" + seat) {
  std::filesystem::create_directories(policy_dir);
  t::write_file(policy_dir + "/00-base.json", R"({"firmware": {"mode": "audit"}})");
  t::write_file(policy_dir + "/90-seat.json", json{{"report", {{"seat_id", seat}}}}.dump(2));
}

SeatDaemon::~SeatDaemon() {
  child.reset();
}

void SeatDaemon::write_report(const json& report) {
  std::string tmp = policy_dir + "/.50-report.tmp";
  t::write_file(tmp, json{{"report", report}}.dump(2));
  std::filesystem::rename(tmp, policy_dir + "/50-report.json");
}

void SeatDaemon::start() {
  setenv("SEATLOCK_TEST_EVENTS", "1", 1);  // inherited by the child: enables events.inject
  std::filesystem::remove(socket);
  // The test build (events.inject) where there is one; older trees enable it by environment.
  std::string daemon = t::binary_path("agent/daemon/seatlockd-test");
  if (!std::filesystem::exists(daemon)) daemon = t::binary_path("agent/daemon/seatlockd");
  // Its own UTS namespace with a host name that is not the seat id; `unshare -u` execs, so the
  // child's pid is seatlockd's.
  child = std::make_unique<t::Child>(
      std::vector<std::string>{"/usr/bin/unshare", "-u", "/bin/sh", "-c",
                               "hostname \"$0\" && exec \"$@\"", hostname, daemon, "--policy-dir",
                               policy_dir, "--state-dir", state_dir, "--control-socket", socket,
                               "--components", "delivery"},
      dir + "/seatlockd.log");
  if (!t::wait_until([&] { return std::filesystem::exists(socket); }, 20'000))
    throw std::runtime_error("seatlockd did not start: " + t::read_file(dir + "/seatlockd.log"));
}

void SeatDaemon::kill9() {
  if (child) child->stop(SIGKILL);
  child.reset();
}

json SeatDaemon::ctl(const std::string& cmd, const json& args, int timeout_ms) {
  return control_call(socket, cmd, args, timeout_ms);
}

std::vector<json> SeatDaemon::spool_events(const std::string& extra) {
  std::vector<std::string> argv = {t::binary_path("agent/cli/seatlockctl"), "--state-dir",
                                   state_dir, "--json", "events"};
  if (!extra.empty()) {
    argv.push_back("--kind");
    argv.push_back(extra);
  }
  t::RunResult r = t::run_command(argv);
  std::vector<json> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
  return out;
}

std::size_t SeatDaemon::count_status(const std::string& status) {
  auto rows = spool_events();
  return static_cast<std::size_t>(std::count_if(
      rows.begin(), rows.end(), [&](const json& e) { return e.value("status", "") == status; }));
}

t::RunResult SeatDaemon::seatlockctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {t::binary_path("agent/cli/seatlockctl"), "--state-dir",
                                   state_dir, "--socket", socket};
  argv.insert(argv.end(), args.begin(), args.end());
  return t::run_command(argv);
}

ScriptServer::ScriptServer(const std::string& script, const seatlock::testing::Pki& pki,
                           const std::string& path, const std::vector<std::string>& extra) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv = {"python3", script, pki.server_cert, pki.server_key, path};
  argv.insert(argv.end(), extra.begin(), extra.end());
  pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv("/usr/bin/python3", args.data());
    _exit(127);
  }
  close(fds[1]);
  char line[128] = {};
  FILE* f = fdopen(fds[0], "r");
  bool ok = fgets(line, sizeof line, f) != nullptr;
  fclose(f);
  if (!ok)
    throw std::runtime_error(std::filesystem::path(script).filename().string() + " did not start");
  port = std::string(line).substr(std::string(line).rfind(':') + 1);
  port.erase(port.find_last_not_of("\r\n") + 1);
}

ScriptServer::~ScriptServer() {
  if (pid > 0) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
}

std::vector<json> read_json_lines(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) {
    json j = json::parse(l, nullptr, false);  // a line being written is skipped
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

FakeCollector::FakeCollector(const seatlock::testing::Pki& pki, const std::string& log_path,
                             const std::vector<std::string>& steps)
    : log(log_path),
      server(std::string(SEATLOCK_SOURCE_DIR) + "/tests/evidence/fake_collector.py", pki, log,
             steps) {}

json report_section(const std::string& url, const seatlock::testing::Pki& pki,
                    const seatlock::testing::Pki::Pair& seat) {
  std::string base = url.substr(0, url.find("/v1/"));
  return json{{"collector", base}, {"ca", pki.ca},      {"cert", seat.cert},
              {"key", seat.key},   {"heartbeat", "1h"}, {"batch_max_events", 500}};
}

DeliveringSeat::DeliveringSeat(const std::string& seat_id)
    : pki(tmp),
      cert(pki.seat(seat_id)),
      db(tmp / "collector.db"),
      collector(db, pki),
      seat(tmp.path, seat_id) {
  seat.write_report(report_section(collector.url(), pki, cert));
}

std::vector<json> collector_rows(const std::string& db, const std::string& seat) {
  auto r = seatlock::testing::run_cli(
      {"query", "--db", db, "--seat", seat, "--json", "--limit", "1000000"});
  std::vector<json> out;
  auto whole = json::parse(r.out, nullptr, false);
  if (whole.is_array()) {
    out = whole.get<std::vector<json>>();
  } else {
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
  }
  std::sort(out.begin(), out.end(),
            [](const json& a, const json& b) { return a.value("seq", 0) < b.value("seq", 0); });
  return out;
}

}  // namespace seatlock::evidence
