#pragma once
// The lab for the network component tests: a "seat" and a "remote" network namespace joined by
// a veth pair (never the host's namespace), echo servers in remote, seatlockd in seat with its
// own policy dir, state dir and control socket, and test users to send traffic as.
//
//   seat  sl0 10.99.0.1/24 (planned) <-> remote sl1 10.99.0.2/24 (+ .53 .54 .80)
//   optional "container" namespace routed through the seat (add_container()):
//   ctr   sl3 10.98.0.2/24 (default via .1) <-> seat sl2 10.98.0.1/24, seat forwards
#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seatlock::nettest {

struct CmdResult {
  int status = -1;  // exit code
  std::string out;  // stdout + stderr
};

// Runs a shell command; captures its output.
CmdResult sh(const std::string& command);
// Same, but fails the test when the exit code is not 0.
std::string must(const std::string& command);

// Test users (created once per run, removed at exit): a and b are plain users, b is a listed
// member of the group, c has the group as its primary group.
inline constexpr const char* kUserA = "sl-net-a";
inline constexpr const char* kUserB = "sl-net-b";
inline constexpr const char* kUserC = "sl-net-c";
inline constexpr const char* kGroup = "sl-net-g";
void ensure_test_users();

// The lab's usual policy: enforce, tcp 8080 to 10.99.0.2 allowed, the resolver 10.99.0.53, sl0's
// planned address, denied packets reported per second. `extra_network` adds or replaces keys of
// the network section.
nlohmann::json lab_policy(const nlohmann::json& extra_network = nlohmann::json::object());

class NetLab {
 public:
  NetLab();
  ~NetLab();
  NetLab(const NetLab&) = delete;
  NetLab& operator=(const NetLab&) = delete;

  const std::string& seat() const { return seat_; }
  const std::string& remote() const { return remote_; }
  const std::string& dir() const { return dir_; }
  std::string policy_dir() const { return dir_ + "/policy.d"; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string socket() const { return dir_ + "/control.sock"; }
  std::string probe() const;
  // A binary of this build (path relative to the build dir) with this lab's --policy-dir and
  // --state-dir and no control socket, as the boot units run it.
  std::string with_dirs(const std::string& binary) const;

  // Writes policy.d/<name> (the network section given; everything else default).
  void write_policy(const std::string& name, const nlohmann::json& doc);
  // Starts seatlockd in the seat namespace and waits until `net.status` says running.
  void start_daemon(const std::vector<std::string>& extra_args = {});
  void kill_daemon(int signal);
  pid_t daemon_pid() const { return daemon_; }
  std::string daemon_log() const;

  // seatlockctl with this lab's socket/dirs; runs in the seat namespace.
  CmdResult ctl(const std::string& args) const;
  nlohmann::json net_status() const;
  // Runs a command inside the seat namespace as `user` ("" = root).
  CmdResult in_seat(const std::string& command, const std::string& user = "") const;
  CmdResult in_remote(const std::string& command) const;
  // Echo servers (probe serve 0.0.0.0 PORTS) in the seat or remote namespace, stopped with the
  // lab; returns once they listen.
  void serve_in_seat(const std::vector<int>& ports);
  void serve_in_remote(const std::vector<int>& ports);
  // A client in remote with a chosen source address (one of sl1's) to the seat (10.99.0.1).
  bool remote_tcp_ok(const std::string& src, int port) const;
  bool remote_udp_ok(const std::string& src, int port) const;

  // The container namespace, forwarded through the seat; then runs commands in it.
  void add_container();
  const std::string& container() const { return ctr_; }
  CmdResult in_container(const std::string& command) const;
  bool tcp_ok(const std::string& user, const std::string& host, int port) const;
  bool udp_ok(const std::string& user, const std::string& host, int port) const;

  // Events recorded by the daemon so far, optionally only one kind.
  std::vector<nlohmann::json> events(const std::string& kind = "") const;
  // Polls events() until `pred` holds for one of them (or the timeout passes).
  bool wait_event(const std::string& kind, const std::function<bool(const nlohmann::json&)>& pred,
                  int timeout_ms) const;

 private:
  void serve_in(const std::string& ns, const std::vector<int>& ports);
  std::string seat_, remote_, ctr_, dir_;
  pid_t daemon_ = -1;
  pid_t server_ = -1;
  std::vector<pid_t> extra_servers_;
};

}  // namespace seatlock::nettest
