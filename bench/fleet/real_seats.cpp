#include "real_seats.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace seatlock::bench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string sh_capture(const std::string& command, int& status) {
  std::string out;
  FILE* f = popen((command + " 2>&1").c_str(), "r");
  if (!f) throw std::runtime_error("popen failed: " + command);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int st = pclose(f);
  status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

void put(const std::string& path, const json& doc) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << doc.dump(2) << "\n";
}

}  // namespace

std::string must_sh(const std::string& command) {
  int status = 0;
  std::string out = sh_capture(command, status);
  if (status != 0)
    throw std::runtime_error(command + " failed (" + std::to_string(status) + "): " + out);
  return out;
}

RealSeats::RealSeats(const seatlock::testing::TempDir& dir, std::size_t count)
    : dir_(dir.path), tag_(std::to_string(getpid())) {
  if (count == 0) return;
  must_sh("ip link add slbr type bridge && ip addr add " + std::string(kBenchAddr) +
          "/24 dev slbr && ip link set slbr up");
  for (std::size_t i = 0; i < count; ++i) {
    RealSeat s;
    char id[32];
    std::snprintf(id, sizeof id, "real-%02zu", i);
    s.id = id;
    s.netns = "slbench-" + tag_ + "-" + std::to_string(i);
    s.dir = dir_ + "/" + s.id;
    std::string link = "slbv" + std::to_string(i);
    std::string addr = "10.77.0." + std::to_string(10 + i);
    must_sh("ip netns add " + s.netns);
    seats_.push_back(s);  // deleted by the destructor from here on
    must_sh("ip link add " + link + " type veth peer name eth0 netns " + s.netns +
            " && ip link set " + link + " master slbr up && ip -n " + s.netns +
            " link set lo up && ip -n " + s.netns + " addr add " + addr + "/24 dev eth0 && ip -n " +
            s.netns + " link set eth0 up && ip -n " + s.netns + " route add default via " +
            kBenchAddr);
  }
}

RealSeats::~RealSeats() {
  for (auto& s : seats_) {
    if (s.pid > 0) {
      kill(s.pid, SIGTERM);
      waitpid(s.pid, nullptr, 0);
    }
    int st = 0;
    sh_capture("ip netns del " + s.netns, st);
  }
}

std::vector<std::string> RealSeats::ids() const {
  std::vector<std::string> out;
  for (const auto& s : seats_) out.push_back(s.id);
  return out;
}

void RealSeats::start(seatlock::testing::Pki& pki, const std::string& collector_url,
                      const std::string& fleet_pin) {
  for (auto& s : seats_) {
    auto cert = pki.seat(s.id);
    // As IT installs a seat: a default, and 90-seat.json with the seat id, the collector, its
    // certificate and the pinned fleet key (the fleet bundle brings the network policy).
    put(s.dir + "/policy.d/00-default.json", {{"firmware", {{"mode", "audit"}}}});
    put(s.dir + "/policy.d/90-seat.json", {{"report",
                                            {{"collector", collector_url},
                                             {"ca", pki.ca},
                                             {"cert", cert.cert},
                                             {"key", cert.key},
                                             {"heartbeat", "1h"},
                                             {"batch_max_events", 500},
                                             {"fleet_keys", {fleet_pin}},
                                             {"seat_id", s.id}}}});
    fs::create_directories(s.dir + "/state");
    std::vector<std::string> argv = {std::string(SEATLOCK_BINARY_DIR) + "/agent/daemon/seatlockd",
                                     "--policy-dir",
                                     s.dir + "/policy.d",
                                     "--state-dir",
                                     s.dir + "/state",
                                     "--control-socket",
                                     s.dir + "/control.sock",
                                     "--components",
                                     "network,delivery",
                                     "--netns",
                                     s.netns};
    s.pid = fork();
    if (s.pid == 0) {
      int fd = open((s.dir + "/daemon.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> av;
      for (auto& a : argv) av.push_back(a.data());
      av.push_back(nullptr);
      execv(av[0], av.data());
      _exit(127);
    }
  }
}

std::string RealSeats::ruleset(std::size_t i) const {
  int st = 0;
  return sh_capture("ip netns exec " + seats_[i].netns + " nft list ruleset", st);
}

std::string RealSeats::log(std::size_t i) const {
  std::ifstream in(seats_[i].dir + "/daemon.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace seatlock::bench
