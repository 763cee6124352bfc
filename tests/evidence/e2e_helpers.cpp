#include "e2e_helpers.hpp"

#include <signal.h>

#include <algorithm>
#include <sstream>

namespace seatlock::evidence {

using nlohmann::json;
namespace t = seatlock::test;

SeatDaemon::SeatDaemon(const std::string& base, const std::string& seat)
    : dir(base + "/seat-" + seat),
      policy_dir(dir + "/policy.d"),
      state_dir(dir + "/state"),
      socket(dir + "/control.sock"),
      seat_id(seat) {
  std::filesystem::create_directories(policy_dir);
  t::write_file(policy_dir + "/00-base.json", R"({"firmware": {"mode": "audit"}})");
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
  child = std::make_unique<t::Child>(
      std::vector<std::string>{t::binary_path("agent/daemon/seatlockd"), "--policy-dir", policy_dir,
                               "--state-dir", state_dir, "--control-socket", socket, "--components",
                               "delivery", "--seat-id", seat_id},
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

json report_section(const std::string& url, const seatlock::testing::Pki& pki,
                    const seatlock::testing::Pki::Pair& seat) {
  std::string base = url.substr(0, url.find("/v1/"));
  return json{{"collector", base}, {"ca", pki.ca},      {"cert", seat.cert},
              {"key", seat.key},   {"heartbeat", "1h"}, {"batch_max_events", 500}};
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
