// The control socket is connectable as soon as its path exists: seatlockctl run right after
// seatlockd starts (and the tests' start helpers) wait for the file, then connect. A socket
// file that exists before listen() answers ECONNREFUSED ("is seatlockd running?").
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "os/control/control_server.hpp"

namespace {

// Spins until `path` exists, then connects once; returns the connect errno (0 = connected).
int connect_when_present(const std::string& path, const std::atomic<bool>& stop) {
  struct stat st {};
  for (;;) {
    // `stop` is set only once the server exists, so a stat after reading it true must succeed.
    const bool last_try = stop.load();
    if (stat(path.c_str(), &st) == 0) break;
    if (last_try) return ENOENT;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = rc == 0 ? 0 : errno;
  close(fd);
  return err;
}

}  // namespace

TEST_CASE("a client that sees the control socket's path can connect to it", "[control]") {
  char tmpl[] = "/tmp/sl-control-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  sd_event* loop = nullptr;
  REQUIRE(sd_event_new(&loop) >= 0);

  int refused = 0;
  constexpr int kRounds = 3000;
  for (int i = 0; i < kRounds; ++i) {
    const std::string path = dir + "/control-" + std::to_string(i) + ".sock";
    std::atomic<bool> stop{false};
    int result = -1;
    std::thread client([&] { result = connect_when_present(path, stop); });
    {
      seatlock::ControlServer server(loop, path);
      stop = true;
      client.join();
    }
    if (result != 0) ++refused;
  }
  sd_event_unref(loop);
  std::filesystem::remove_all(dir);
  INFO(refused << " of " << kRounds << " connects to a freshly created socket failed");
  CHECK(refused == 0);
}
