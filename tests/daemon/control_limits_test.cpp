// The control socket must answer hostile requests with an error and keep seatlockd running:
// JSON nested deeper than any command needs (a recursive copy of such a tree overflowed the
// event loop's stack), and requests that never end.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/process.hpp"

using namespace seatlock::test;
using nlohmann::json;

namespace {

const char* kPolicy = R"({"usb": {"mode": "audit"}, "firmware": {"mode": "audit"}})";

struct Daemon {
  std::string dir = make_temp_dir("control-limits");
  std::string socket = dir + "/control.sock";
  std::unique_ptr<Child> child;
  Daemon() {
    std::filesystem::create_directories(dir + "/policy.d");
    write_file(dir + "/policy.d/00-base.json", kPolicy);
    child = std::make_unique<Child>(
        std::vector<std::string>{binary_path("agent/daemon/seatlockd"), "--policy-dir",
                                 dir + "/policy.d", "--state-dir", dir + "/state",
                                 "--control-socket", socket, "--components", "none", "--seat-id",
                                 "test-seat-1"},
        dir + "/seatlockd.log");
    REQUIRE(wait_until([&] { return std::filesystem::exists(socket); }));
  }
  ~Daemon() {
    child.reset();
    std::filesystem::remove_all(dir);
  }
  // Sends `request` as is (a line) and returns the reply line ("" when none).
  std::string raw(const std::string& request, bool finish_line = true) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return "";
    }
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string data = request + (finish_line ? "\n" : "");
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    std::string reply;
    char buf[4096];
    ssize_t n;
    while (reply.find('\n') == std::string::npos && (n = read(fd, buf, sizeof buf)) > 0)
      reply.append(buf, static_cast<std::size_t>(n));
    close(fd);
    return reply.substr(0, reply.find('\n'));
  }
  bool status_ok() {
    return run_command({binary_path("agent/cli/seatlockctl"), "--socket", socket, "status"})
               .exit_code == 0;
  }
};

}  // namespace

TEST_CASE("deeply nested control requests get an error and seatlockd keeps running",
          "[daemon][control]") {
  Daemon d;
  for (std::size_t depth : {std::size_t{5'000}, std::size_t{200'000}}) {
    INFO("args nested " << depth << " deep");
    std::string req = R"({"cmd":"status","args":{"x":)" + std::string(depth, '[') +
                      std::string(depth, ']') + "}}";
    std::string reply = d.raw(req);
    REQUIRE_FALSE(reply.empty());
    json j = json::parse(reply);
    CHECK(j["ok"] == false);
    CHECK(j["error"].get<std::string>().find("malformed request: JSON nests deeper than 64") == 0);
    CHECK(d.child->running());
    CHECK(d.status_ok());
  }
}

TEST_CASE("a control request that never ends is answered with an error after 2 s",
          "[daemon][control]") {
  Daemon d;
  std::string reply = d.raw(R"({"cmd":"status")", /*finish_line=*/false);
  REQUIRE_FALSE(reply.empty());
  CHECK(json::parse(reply)["ok"] == false);
  CHECK(d.status_ok());
}
