#include "netns_lab.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/process_wait.hpp"

namespace seatlock::nettest {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string bin(const std::string& rel) {
  return std::string(SEATLOCK_BINARY_DIR) + "/" + rel;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void stop(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pid = -1;
}

// Users made by this run; removed when the test binary exits.
struct UserCleanup {
  std::vector<std::string> users, groups;
  ~UserCleanup() {
    for (const auto& u : users) sh("userdel " + u + " 2>/dev/null");
    for (const auto& g : groups) sh("groupdel " + g + " 2>/dev/null");
  }
} g_cleanup;

std::string gid_of(const std::string& user) {
  passwd* pw = getpwnam(user.c_str());
  return pw ? std::to_string(pw->pw_gid) : "0";
}

}  // namespace

CmdResult sh(const std::string& command) {
  CmdResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string must(const std::string& command) {
  CmdResult r = sh(command);
  INFO(command << "\n" << r.out);
  REQUIRE(r.status == 0);
  return r.out;
}

void ensure_test_users() {
  static bool done = false;
  if (done) return;
  done = true;
  if (!getgrnam(kGroup)) {
    must(std::string("groupadd ") + kGroup);
    g_cleanup.groups.push_back(kGroup);
  }
  auto add = [](const char* user, const std::string& flags) {
    if (getpwnam(user)) return;
    must("useradd -M -s /usr/sbin/nologin " + flags + " " + user);
    g_cleanup.users.push_back(user);
  };
  add(kUserA, "-U");
  add(kUserB, std::string("-U -G ") + kGroup);
  add(kUserC, std::string("-N -g ") + kGroup);
}

NetLab::NetLab() {
  ensure_test_users();
  std::string id = "sl-net-" + std::to_string(getpid());
  seat_ = id + "-seat";
  remote_ = id + "-remote";
  dir_ = "/tmp/" + id;
  fs::remove_all(dir_);
  fs::create_directories(policy_dir());
  fs::create_directories(state_dir());
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  must("ip netns add " + seat_);
  must("ip netns add " + remote_);
  must("ip -n " + seat_ + " link add sl0 type veth peer name sl1 netns " + remote_);
  must("ip -n " + seat_ + " addr add 10.99.0.1/24 dev sl0");
  for (const char* a : {"10.99.0.2/24", "10.99.0.53/24", "10.99.0.54/24", "10.99.0.80/24"})
    must("ip -n " + remote_ + " addr add " + a + " dev sl1");
  for (const auto& ns : {seat_, remote_}) must("ip -n " + ns + " link set lo up");
  must("ip -n " + seat_ + " link set sl0 up");
  must("ip -n " + remote_ + " link set sl1 up");
  server_ = spawn({"/usr/sbin/ip", "netns", "exec", remote_, probe(), "serve", "0.0.0.0", "53",
                   "443", "853", "8080", "9090"},
                  dir_ + "/server.log");
  // Until the server says ready (and the veth has finished DAD-free bring-up).
  test::wait_until([&] { return sh("grep -q ready " + dir_ + "/server.log").status == 0; }, 2000);
}

NetLab::~NetLab() {
  stop(daemon_);
  stop(server_);
  for (pid_t& p : extra_servers_) stop(p);
  sh("ip netns del " + seat_);
  sh("ip netns del " + remote_);
  if (!ctr_.empty()) sh("ip netns del " + ctr_);
  if (!getenv("SEATLOCK_KEEP_LAB")) fs::remove_all(dir_);
}

json lab_policy(const json& extra_network) {
  json network = {
      {"mode", "enforce"},
      {"allow", json::array({{{"to", "10.99.0.2/32"}, {"ports", {8080}}, {"proto", "tcp"}}})},
      {"dns", {"10.99.0.53"}},
      {"addresses", {{"sl0", "10.99.0.1/24"}}},
      {"denied_log", {{"window", "1s"}, {"rate", 50}}}};
  network.update(extra_network);
  return {{"network", network}};
}

std::string NetLab::probe() const {
  return bin("tests/net/sl_net_probe");
}

std::string NetLab::with_dirs(const std::string& binary) const {
  return bin(binary) + " --policy-dir " + policy_dir() + " --state-dir " + state_dir();
}

void NetLab::write_policy(const std::string& name, const json& doc) {
  std::ofstream(policy_dir() + "/" + name) << doc.dump(2) << "\n";
}

void NetLab::start_daemon(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {bin("agent/daemon/seatlockd"),
                                   "--policy-dir",
                                   policy_dir(),
                                   "--state-dir",
                                   state_dir(),
                                   "--control-socket",
                                   socket(),
                                   "--components",
                                   "network",
                                   "--netns",
                                   seat_,
                                   "--seat-id",
                                   "lab-seat"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  daemon_ = spawn(argv, dir_ + "/daemon.log");
  bool exited = false;
  bool ready = test::wait_until(
      [&] {
        CmdResult r = ctl("--json net status");
        if (r.status == 0 && r.out.find("\"running\"") != std::string::npos) return true;
        int st = 0;
        exited = waitpid(daemon_, &st, WNOHANG) == daemon_;
        return exited;
      },
      10'000);
  if (exited) {
    daemon_ = -1;
    FAIL("seatlockd exited: " << daemon_log());
  }
  if (!ready) FAIL("seatlockd did not become ready: " << daemon_log());
}

void NetLab::kill_daemon(int signal) {
  if (daemon_ <= 0) return;
  kill(daemon_, signal);
  waitpid(daemon_, nullptr, 0);
  daemon_ = -1;
}

std::string NetLab::daemon_log() const {
  std::ifstream in(dir_ + "/daemon.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CmdResult NetLab::ctl(const std::string& args) const {
  return sh("ip netns exec " + seat_ + " " + bin("agent/cli/seatlockctl") + " --socket " +
            socket() + " --policy-dir " + policy_dir() + " --state-dir " + state_dir() + " " +
            args);
}

json NetLab::net_status() const {
  CmdResult r = ctl("--json net status");
  INFO(r.out);
  REQUIRE(r.status == 0);
  return json::parse(r.out);
}

CmdResult NetLab::in_seat(const std::string& command, const std::string& user) const {
  std::string as = user.empty()
                       ? ""
                       : "setpriv --reuid=" + user + " --regid=" + gid_of(user) + " --init-groups ";
  return sh("ip netns exec " + seat_ + " " + as + command);
}

CmdResult NetLab::in_remote(const std::string& command) const {
  return sh("ip netns exec " + remote_ + " " + command);
}

void NetLab::serve_in(const std::string& ns, const std::vector<int>& ports) {
  std::vector<std::string> argv = {"/usr/sbin/ip", "netns", "exec",   ns,
                                   probe(),        "serve", "0.0.0.0"};
  std::string log = dir_ + "/serve-" + std::to_string(extra_servers_.size()) + ".log";
  for (int p : ports) argv.push_back(std::to_string(p));
  extra_servers_.push_back(spawn(argv, log));
  bool ready = test::wait_until([&] { return sh("grep -q ready " + log).status == 0; }, 2000);
  INFO(sh("cat " + log).out);
  REQUIRE(ready);
}

void NetLab::serve_in_seat(const std::vector<int>& ports) {
  serve_in(seat_, ports);
}

void NetLab::serve_in_remote(const std::vector<int>& ports) {
  serve_in(remote_, ports);
}

bool NetLab::remote_tcp_ok(const std::string& src, int port) const {
  return in_remote(probe() + " --src " + src + " tcp 10.99.0.1 " + std::to_string(port) + " 700")
             .status == 0;
}

bool NetLab::remote_udp_ok(const std::string& src, int port) const {
  return in_remote(probe() + " --src " + src + " udp 10.99.0.1 " + std::to_string(port) + " 700")
             .status == 0;
}

void NetLab::add_container() {
  ctr_ = seat_.substr(0, seat_.size() - 4) + "ctr";
  must("ip netns add " + ctr_);
  must("ip -n " + seat_ + " link add sl2 type veth peer name sl3 netns " + ctr_);
  must("ip -n " + seat_ + " addr add 10.98.0.1/24 dev sl2");
  must("ip -n " + ctr_ + " addr add 10.98.0.2/24 dev sl3");
  must("ip -n " + ctr_ + " link set lo up");
  must("ip -n " + ctr_ + " link set sl3 up");
  must("ip -n " + seat_ + " link set sl2 up");
  must("ip -n " + ctr_ + " route add default via 10.98.0.1");
  must("ip -n " + remote_ + " route add 10.98.0.0/24 via 10.99.0.1");
  // The seat routes like a container host (the sysctl is per network namespace).
  must("ip netns exec " + seat_ + " sysctl -qw net.ipv4.ip_forward=1");
}

CmdResult NetLab::in_container(const std::string& command) const {
  return sh("ip netns exec " + ctr_ + " " + command);
}

bool NetLab::tcp_ok(const std::string& user, const std::string& host, int port) const {
  return in_seat(probe() + " tcp " + host + " " + std::to_string(port) + " 700", user).status == 0;
}

bool NetLab::udp_ok(const std::string& user, const std::string& host, int port) const {
  return in_seat(probe() + " udp " + host + " " + std::to_string(port) + " 700", user).status == 0;
}

std::vector<json> NetLab::events(const std::string& kind) const {
  // Through `seatlockctl events --json` (one event per line), so the test does not depend on
  // how the daemon's sink stores them.
  std::vector<json> out;
  CmdResult r = sh(bin("agent/cli/seatlockctl") + " --state-dir " + state_dir() + " --json events" +
                   (kind.empty() ? "" : " --kind " + kind) + " 2>/dev/null");
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (kind.empty() || j.value("kind", "") == kind) out.push_back(std::move(j));
  }
  return out;
}

bool NetLab::wait_event(const std::string& kind, const std::function<bool(const json&)>& pred,
                        int timeout_ms) const {
  return test::wait_until(
      [&] {
        for (const auto& e : events(kind))
          if (pred(e)) return true;
        return false;
      },
      timeout_ms);
}

}  // namespace seatlock::nettest
