// seatlockd as seatlock-usbd's client (docs/usbd.md), both real processes against a umockdev
// testbed: seatlockd brings a killed usbd back with the policy in force, uses a usbd that was
// there first (as seatlock-usbd.service starts it) without stopping it, and records what usbd
// kept (or had to drop) while seatlockd was away.
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/events.hpp"
#include "support/process.hpp"
#include "usb/seat_dirs.hpp"
#include "usb/usb_testbed.hpp"

using namespace seatlock::test;
using nlohmann::json;

namespace {

// A policy usbd would enforce if it came back on its own: nothing blocked, only reported.
const char* kAuditPolicy = "{\"usb\": {\"mode\": \"audit\"}}\n";

struct Seat : SeatDirs {
  UsbTestbed& tb;
  std::string socket = dir + "/control.sock";
  std::string usbd_socket = dir + "/usbd.sock";  // seatlockd's default: next to its socket
  std::unique_ptr<Child> seatlockd;
  std::unique_ptr<Child> usbd;  // one the test started (as the unit would)

  explicit Seat(UsbTestbed& t) : SeatDirs("usbdc"), tb(t) {}
  ~Seat() {
    seatlockd.reset();
    usbd.reset();
    for (pid_t p : usbd_pids()) ::kill(p, SIGKILL);  // never leave one behind
    std::filesystem::remove_all(dir);
  }
  // `mode` is seatlockd's SEATLOCK_USBD ("" = unset: it starts usbd when none answers).
  void start_seatlockd(const std::string& mode = "") {
    if (!mode.empty()) ::setenv("SEATLOCK_USBD", mode.c_str(), 1);
    seatlockd = std::make_unique<Child>(
        std::vector<std::string>{
            binary_path("agent/daemon/seatlockd"), "--policy-dir", policy_dir, "--state-dir",
            state_dir, "--control-socket", socket, "--components", "usb", "--sysfs", tb.sys_root(),
            "--dev", dir + "/dev", "--udev-rules-dir", rules_dir, "--seat-id", "cc-test-usb"},
        dir + "/seatlockd.log");
    ::unsetenv("SEATLOCK_USBD");
    REQUIRE(wait_until([&] { return ctl({"status"}).exit_code == 0; }));
  }
  void start_usbd(std::vector<std::string> extra = {}) {
    std::filesystem::remove(usbd_socket);
    std::vector<std::string> argv = usbd_command(usbd_socket, tb.sys_root());
    argv.insert(argv.end(), extra.begin(), extra.end());
    usbd = std::make_unique<Child>(argv, dir + "/usbd.log");
    REQUIRE(wait_until([&] { return std::filesystem::exists(usbd_socket); }));
  }
  RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {binary_path("agent/cli/seatlockctl"), "--socket", socket,
                               "--policy-dir", policy_dir});
    return run_command(args);
  }
  // Every running seatlock-usbd of this seat (found by its state directory on the command line).
  std::vector<pid_t> usbd_pids() const {
    std::vector<pid_t> out;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return out;
    while (dirent* e = ::readdir(proc)) {
      const pid_t pid = std::atoi(e->d_name);
      if (pid <= 0) continue;
      std::string cmd = read_file("/proc/" + std::string(e->d_name) + "/cmdline");
      for (char& ch : cmd)
        if (ch == '\0') ch = ' ';
      if (cmd.find("seatlock-usbd ") != std::string::npos &&
          cmd.find(" " + state_dir + " ") != std::string::npos)
        out.push_back(pid);
    }
    ::closedir(proc);
    return out;
  }
  // usbd keeps the policy it was handed here; a test writes a more open one to see it replaced.
  std::string handed() const { return read_file(state_dir + "/usbd-policy.json"); }
  void make_handed_open() const { write_file(state_dir + "/usbd-policy.json", kAuditPolicy); }
  std::size_t usbd_logged(const std::string& needle) const {
    std::size_t n = 0;
    std::istringstream in(read_file(dir + "/usbd.log"));
    for (std::string line; std::getline(in, line);)
      if (line.find(needle) != std::string::npos) ++n;
    return n;
  }
};

// A stand-in for seatlock-usbd that answers every request and refuses to "check" a policy
// naming the seat "usbd-refuses" (as a usbd of another build might refuse what seatlockd takes).
class FakeUsbd {
 public:
  explicit FakeUsbd(const std::string& path) {
    listen_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_, 4) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUsbd() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }
  // "op" or "op:seat id of its policy", in the order received.
  std::vector<std::string> ops() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ops_;
  }

 private:
  void serve() {
    int client = -1;
    while (!stop_) {
      pollfd p{client >= 0 ? client : listen_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (client < 0) {
        client = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        continue;
      }
      std::string buf(256 * 1024, '\0');
      const ssize_t n = ::recv(client, buf.data(), buf.size(), 0);
      if (n <= 0) {
        ::close(client);
        client = -1;
        continue;
      }
      const json req = json::parse(buf.substr(0, static_cast<std::size_t>(n)));
      const std::string op = req.value("op", "");
      const json seat_id = req.value("/policy/report/seat_id"_json_pointer, json());
      const std::string seat = seat_id.is_string() ? seat_id.get<std::string>() : "";
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ops_.push_back(seat.empty() ? op : op + ":" + seat);
      }
      json reply = {{"id", req["id"]}, {"ok", true}, {"result", {{"sha256", "fake"}}}};
      if (op == "check" && seat == "usbd-refuses")
        reply = {{"id", req["id"]}, {"ok", false}, {"error", "policy refused: usbd says no"}};
      const std::string text = reply.dump();
      ::send(client, text.data(), text.size(), MSG_NOSIGNAL);
    }
    if (client >= 0) ::close(client);
  }

  int listen_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> ops_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("a policy seatlock-usbd would refuse is refused before seatlockd applies anything",
          "[usb][usbd][daemon][umockdev]") {
  UsbTestbed tb;
  Seat s(tb);
  FakeUsbd fake(s.usbd_socket);
  s.start_seatlockd("connect");
  REQUIRE(wait_until([&] {
    const auto ops = fake.ops();
    return std::find(ops.begin(), ops.end(), "policy") != ops.end();
  }));

  write_file(s.policy_dir + "/90-seat.json", "{\"report\": {\"seat_id\": \"usbd-refuses\"}}\n");
  RunResult r = s.ctl({"reload"});
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("usbd says no") != std::string::npos);
  const auto ops = fake.ops();
  CHECK(std::count(ops.begin(), ops.end(), "check:usbd-refuses") == 1);
  CHECK(std::count(ops.begin(), ops.end(), "policy:usbd-refuses") == 0);
}

TEST_CASE("seatlockd brings back a killed seatlock-usbd with the policy in force",
          "[usb][usbd][daemon][umockdev]") {
  UsbTestbed tb;
  Seat s(tb);
  s.start_seatlockd();  // starts its own usbd
  const std::vector<pid_t> first = s.usbd_pids();
  REQUIRE(first.size() == 1);

  // Left alone, the next usbd would come back with this open policy: seatlockd must replace it.
  s.make_handed_open();
  REQUIRE(::kill(first[0], SIGKILL) == 0);
  REQUIRE(wait_until([&] {
    const auto now = s.usbd_pids();
    return now.size() == 1 && now[0] != first[0];
  }));
  REQUIRE(wait_until([&] { return s.handed() != kAuditPolicy && !s.handed().empty(); }));

  tb.plug("1-2", catalog::kingston_stick());
  REQUIRE(wait_until([&] { return events_of_kind(s.state_dir, "usb.blocked").size() == 1; }, 5000));
  CHECK(tb.authorized("1-2:1.0") == "0");
  const auto blocked = events_of_kind(s.state_dir, "usb.blocked");
  CHECK(blocked[0]["details"]["port"] == "1-2");
  CHECK(blocked[0]["seat"]["id"] == "cc-test-usb");
}

TEST_CASE("seatlockd under systemd uses the unit's seatlock-usbd and never starts a second one",
          "[usb][usbd][daemon][umockdev]") {
  UsbTestbed tb;
  Seat s(tb);
  s.start_usbd();  // as seatlock-usbd.service does, before seatlockd
  s.start_seatlockd("connect");
  REQUIRE(s.usbd_pids() == std::vector<pid_t>{s.usbd->pid()});

  tb.plug("1-2", catalog::kingston_stick());
  REQUIRE(wait_until([&] { return events_of_kind(s.state_dir, "usb.blocked").size() == 1; }, 5000));
  CHECK(tb.authorized("1-2:1.0") == "0");

  // The unit's usbd dies and systemd restarts it (with an open policy left behind): seatlockd
  // waits for it instead of starting its own, then hands it the policy in force.
  s.make_handed_open();
  s.usbd->stop(SIGKILL);
  s.start_usbd();
  REQUIRE(wait_until([&] { return s.handed() != kAuditPolicy && !s.handed().empty(); }));
  CHECK(s.usbd_pids() == std::vector<pid_t>{s.usbd->pid()});
  tb.plug("1-3", catalog::kingston_stick());
  REQUIRE(wait_until([&] { return events_of_kind(s.state_dir, "usb.blocked").size() == 2; }, 5000));
  CHECK(tb.authorized("1-3:1.0") == "0");

  // seatlockd's restart (or stop) leaves the unit's usbd running and the sticks blocked.
  CHECK(s.seatlockd->stop() == 0);
  CHECK(s.usbd->running());
  CHECK(tb.authorized("1-2:1.0") == "0");
  CHECK(tb.authorized("1-3:1.0") == "0");
}

TEST_CASE("events seatlock-usbd kept while seatlockd was down reach seatlockd's store",
          "[usb][usbd][daemon][umockdev]") {
  UsbTestbed tb;
  Seat s(tb);
  s.start_usbd({"--event-queue-max", "2"});
  for (const char* port : {"1-1", "1-2", "1-3", "1-4"}) tb.plug(port, catalog::kingston_stick());
  REQUIRE(wait_until([&] { return s.usbd_logged("event usb.blocked") == 4; }, 5000));

  s.start_seatlockd();  // finds usbd answering: connects, starts none
  REQUIRE(wait_until([&] { return events_of_kind(s.state_dir, "usb.blocked").size() == 2; }, 5000));
  const auto dropped = events_of_kind(s.state_dir, "usb.events_dropped");
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0]["details"]["events"] == 2);
  CHECK(dropped[0]["details"]["violations"] == 2);
  CHECK(dropped[0]["severity"] == "high");
  const auto blocked = events_of_kind(s.state_dir, "usb.blocked");
  CHECK(blocked[0]["details"]["port"] == "1-3");  // the newest were kept
  CHECK(blocked[1]["details"]["port"] == "1-4");
  CHECK(blocked[1]["seat"]["id"] == "cc-test-usb");
  CHECK(s.ctl({"--state-dir", s.state_dir, "events", "--kind", "usb.events_dropped"})
            .out.find("usb.events_dropped") != std::string::npos);

  // It did not start that usbd, so it does not stop it.
  CHECK(s.usbd_pids() == std::vector<pid_t>{s.usbd->pid()});
  CHECK(s.seatlockd->stop() == 0);
  CHECK(s.usbd->running());
}
