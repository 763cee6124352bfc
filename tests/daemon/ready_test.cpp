// seatlockd's start as systemd sees it (Type=notify): READY=1 comes once the lockdown is in force,
// and slower work (event delivery) starts after it, so a collector that hangs does not hold up
// the log-in screen (issue 18, docs/boot.md). All components, the shipped default policy, in a
// network namespace of the test's own. Root (nft, ip netns).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.hpp"

using namespace seatlock::test;
using nlohmann::json;

namespace {

int sh(const std::string& cmd) {
  return run_command({"/bin/sh", "-c", cmd}).exit_code;
}

std::int64_t to_ns(const timespec& t) {
  return std::int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::int64_t realtime_ns() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return to_ns(t);
}

// A socket that receives sd_notify datagrams with the sender's pid (SO_PASSCRED) and the time
// the kernel queued them (SO_TIMESTAMPNS, CLOCK_REALTIME).
struct NotifySocket {
  std::string path;
  int fd = -1;
  std::int64_t ready_at_ns = 0;  // of the last READY=1 wait_ready() saw
  explicit NotifySocket(std::string p) : path(std::move(p)) {
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  }
  ~NotifySocket() { close(fd); }
  // Every datagram waiting now (or within `timeout_ms`): who sent it (SO_PASSCRED), what it
  // said and when the kernel queued it.
  struct Datagram {
    pid_t from = -1;
    std::string text;
    std::int64_t at_ns = 0;
  };
  bool receive(Datagram& d, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    char buf[4096];
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(timespec))];
    iovec iov{buf, sizeof buf - 1};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    ssize_t n = recvmsg(fd, &m, 0);
    if (n <= 0) return false;
    d.text.assign(buf, static_cast<std::size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_type == SCM_CREDENTIALS) d.from = reinterpret_cast<ucred*>(CMSG_DATA(c))->pid;
      if (c->cmsg_type == SCM_TIMESTAMPNS)
        d.at_ns = to_ns(*reinterpret_cast<timespec*>(CMSG_DATA(c)));
    }
    if (d.from != expected_sender) foreign.push_back(std::to_string(d.from) + ": " + d.text);
    return true;
  }
  pid_t expected_sender = -1;
  std::vector<std::string> foreign;  // datagrams from anyone but expected_sender
  // The next datagram from `pid` that holds READY=1; false when none came (`timeout_ms`).
  bool wait_ready(pid_t pid, int timeout_ms = 60'000) {
    expected_sender = pid;
    return wait_until(
        [&] {
          Datagram d;
          if (!receive(d, 50) || d.from != pid ||
              ("\n" + d.text + "\n").find("\nREADY=1\n") == std::string::npos)
            return false;
          ready_at_ns = d.at_ns;
          return true;
        },
        timeout_ms);
  }
  // Reads what is left (the sender has stopped).
  void drain() {
    Datagram d;
    while (receive(d, 0)) {
    }
  }
};

// A "collector" in the namespace that accepts connections (the kernel completes them) and never
// says a word.
int silent_listener(const std::string& netns, std::uint16_t port) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int there = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE((self >= 0 && there >= 0));
  REQUIRE(setns(there, CLONE_NEWNET) == 0);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool listening =
      bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 16) == 0;
  REQUIRE(setns(self, CLONE_NEWNET) == 0);
  close(self);
  close(there);
  REQUIRE(listening);
  return fd;
}

// Notes when the first connection to `listener` is there (the moment is noted after it, never
// before).
class FirstConnection {
 public:
  explicit FirstConnection(int listener)
      : thread_([this, listener] {
          pollfd p{listener, POLLIN, 0};
          while (!stop_ && poll(&p, 1, 100) != 1) {
          }
          if (!stop_) at_ns_ = realtime_ns();
        }) {}
  ~FirstConnection() {
    stop_ = true;
    thread_.join();
  }
  std::int64_t at_ns() const { return at_ns_; }  // 0: none yet

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> at_ns_{0};
  std::thread thread_;
};

struct BootLab {
  std::string netns = "sl-ready-" + std::to_string(getpid());
  std::string dir = make_temp_dir("ready");
  std::string policy_dir = dir + "/policy.d", state_dir = dir + "/state";
  std::string socket = dir + "/run/control.sock", rules_dir = dir + "/rules";

  BootLab() {
    for (const char* d : {"policy.d", "run", "rules", "sys", "dev"})
      std::filesystem::create_directories(dir + "/" + d);
    std::filesystem::copy_file(std::string(SEATLOCK_SOURCE_DIR) + "/policy/default/00-default.json",
                               policy_dir + "/00-default.json");
    sh("ip netns del " + netns + " 2>/dev/null");  // left by a run that was killed
    REQUIRE(sh("ip netns add " + netns) == 0);
    REQUIRE(sh("ip -n " + netns + " link set lo up") == 0);
  }
  ~BootLab() {
    sh("ip netns del " + netns);
    std::filesystem::remove_all(dir);
  }
  // seatlockd as packaged (all components), the test's paths, under `notify`.
  std::unique_ptr<Child> start(const std::string& notify) {
    return std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/env", "NOTIFY_SOCKET=" + notify,
                                 binary_path("agent/daemon/seatlockd"), "--policy-dir", policy_dir,
                                 "--state-dir", state_dir, "--control-socket", socket, "--sysfs",
                                 dir + "/sys", "--dev", dir + "/dev", "--udev-rules-dir", rules_dir,
                                 "--lease-root", dir, "--netns", netns},
        dir + "/seatlockd.log");
  }
  bool nft_table_in_force() {
    return sh("ip netns exec " + netns + " nft list table inet seatlock >/dev/null 2>&1") == 0;
  }
  RunResult ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{binary_path("agent/cli/seatlockctl"), "--socket", socket};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
};

}  // namespace

TEST_CASE("seatlockd is ready with the lockdown in force while its collector never answers",
          "[daemon][boot]") {
  BootLab lab;
  int collector = silent_listener(lab.netns, 8443);
  write_file(lab.policy_dir + "/50-report.json",
             R"({"report": {"collector": "https://127.0.0.1:8443", "heartbeat": "1h"}})");
  NotifySocket notify(lab.dir + "/notify");
  FirstConnection connected(collector);
  auto daemon = lab.start(notify.path);
  REQUIRE(notify.wait_ready(daemon->pid()));
  // At READY=1 (what systemd waits for before log-in): the egress table and the USB rules are in
  // force.
  CHECK(lab.nft_table_in_force());
  CHECK(std::filesystem::exists(lab.rules_dir + "/70-seatlock-usb.rules"));
  // Delivery connects, after READY=1 (it starts from the loop), and the request that hangs holds
  // nothing else up.
  REQUIRE(wait_until([&] { return connected.at_ns() != 0; }, 30'000));
  CHECK(connected.at_ns() > notify.ready_at_ns);
  RunResult st = lab.ctl({"--json", "status"});
  REQUIRE(st.exit_code == 0);
  CHECK(json::parse(st.out)["components"]["network"]["state"] == "running");
  INFO(read_file(lab.dir + "/seatlockd.log"));
  CHECK(daemon->stop() == 0);
  close(collector);
  // seatlock-usbd, started by this seatlockd, said nothing on seatlockd's notify socket: with
  // NotifyAccess=all its READY=1 would count as seatlockd's, before the lockdown is in force.
  notify.drain();
  std::string foreign;
  for (const auto& f : notify.foreign) foreign += f + "\n";
  INFO("notify datagrams from other processes:\n" << foreign);
  CHECK(notify.foreign.empty());
}

TEST_CASE("a restart with the same policy does not rewrite the cached last good policy",
          "[daemon][boot]") {
  BootLab lab;
  NotifySocket notify(lab.dir + "/notify");
  const std::string cache = lab.state_dir + "/last-good-policy.json";
  auto inode = [&] {
    struct stat st {};
    return stat(cache.c_str(), &st) == 0 ? st.st_ino : ino_t(0);
  };
  auto daemon = lab.start(notify.path);
  REQUIRE(notify.wait_ready(daemon->pid()));
  const ino_t first = inode();
  REQUIRE(first != 0);
  REQUIRE(daemon->stop() == 0);
  // The same policy: the cache (and its fsyncs before READY) stays as it is.
  daemon = lab.start(notify.path);
  REQUIRE(notify.wait_ready(daemon->pid()));
  CHECK(inode() == first);
  REQUIRE(daemon->stop() == 0);
  // A changed policy is cached again.
  write_file(lab.policy_dir + "/50-site.json", R"({"usb": {"allow_classes": ["video"]}})");
  daemon = lab.start(notify.path);
  REQUIRE(notify.wait_ready(daemon->pid()));
  CHECK(inode() != first);
  CHECK(read_file(cache).find("video") != std::string::npos);
  CHECK(daemon->stop() == 0);
}

TEST_CASE(
    "a damaged seat key does not keep seatlockd from enforcing and delivery says why it waits",
    "[daemon][boot]") {
  BootLab lab;
  write_file(lab.policy_dir + "/50-report.json",
             R"({"report": {"collector": "https://127.0.0.1:8443", "heartbeat": "1h"}})");
  std::filesystem::create_directories(lab.state_dir);
  write_file(lab.state_dir + "/seat.key", "not a key\n");
  NotifySocket notify(lab.dir + "/notify");
  auto daemon = lab.start(notify.path);
  // The key is delivery's, read after READY=1: the lockdown does not depend on it.
  REQUIRE(notify.wait_ready(daemon->pid()));
  CHECK(lab.nft_table_in_force());
  std::string error;
  CHECK(wait_until(
      [&] {
        RunResult st = lab.ctl({"--json", "status"});
        if (st.exit_code != 0) return false;
        error = json::parse(st.out)["components"]["delivery"].value("last_error", "");
        return !error.empty();
      },
      10'000));
  CHECK(error.find("seat key") != std::string::npos);
  CHECK(error.find("not a PEM private key") != std::string::npos);
  // The events wait in the spool for a key that works; the file is IT's to look at, not
  // replaced behind their back.
  CHECK(read_file(lab.state_dir + "/seat.key") == "not a key\n");
  INFO(read_file(lab.dir + "/seatlockd.log"));
  CHECK(daemon->stop() == 0);
}
