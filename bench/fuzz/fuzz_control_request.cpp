// seatlockd's control socket (agent/os/control/control_server.hpp): the real ControlServer on
// an sd-event loop in a thread, a client connection per input sending the input as the request
// line. Handlers like the daemon's: one echoes its arguments (a deep copy of the request tree),
// one reads typed fields, one throws. Invariant: every request gets exactly one JSON line back,
// {"ok":true,...} or {"ok":false,"error":"..."}; an echo returns exactly the arguments sent.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fuzz_support.hpp"
#include "os/control/control_server.hpp"

using nlohmann::json;

namespace {

struct Server {
  sd_event* loop = nullptr;
  std::string path;
  seatlock::ControlServer* server = nullptr;

  Server() {
    path = "/tmp/seatlock-fuzz-control-" + std::to_string(getpid()) + "/control.sock";
    if (sd_event_new(&loop) < 0) std::abort();
    server = new seatlock::ControlServer(loop, path, getuid());
    server->add("echo", [](const json& args) { return args; });
    server->add("usb.allow", [](const json& args) {
      // Typed reads as the daemon's handlers do them: check the type, then get (json::exception
      // -> malformed request). A number is range-checked before it is converted: nlohmann's
      // get<int>() of 1e300 is undefined behaviour (found by this target in an earlier version
      // of this handler, which used args.value("minutes", 0)).
      const json minutes = args.value("minutes", json(0));
      if (!minutes.is_number_integer() || minutes.get<std::int64_t>() < 0 ||
          minutes.get<std::int64_t>() > 100'000)
        throw seatlock::ControlError("usb.allow: minutes: expected 0..100000");
      return json{{"vid", args.at("vid").get<std::string>()},
                  {"minutes", minutes},
                  {"ticket", args.value("ticket", std::string())}};
    });
    server->add("fail", [](const json&) -> json { throw seatlock::ControlError("refused"); });
    std::thread([l = loop] { sd_event_loop(l); }).detach();  // lives as long as the process
    std::atexit([] {  // the server is never destroyed (its loop thread still runs): tidy up
      const std::string dir = "/tmp/seatlock-fuzz-control-" + std::to_string(getpid());
      unlink((dir + "/control.sock").c_str());
      rmdir(dir.c_str());
    });
  }
};

int connect_to(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) std::abort();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Server server;
  int fd = connect_to(server.path);
  // Write and read concurrently: a large reply must not dead-lock against our unsent request.
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < size) {
      ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
      if (n <= 0) break;  // the server may answer and close before reading everything
      off += static_cast<std::size_t>(n);
    }
    shutdown(fd, SHUT_WR);
  });
  std::string reply;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<size_t>(n));
  writer.join();
  close(fd);

  const std::string_view request(reinterpret_cast<const char*>(data), size);
  const std::string_view line = request.substr(0, request.find('\n'));
  if (reply.empty()) return 0;  // request over the 1 MiB limit or not answered in time
  FUZZ_CHECK(reply.back() == '\n' && reply.find('\n') == reply.size() - 1,
             "reply is not one line: " + reply);
  json r;
  try {
    r = json::parse(reply);
  } catch (const json::exception& e) {
    FUZZ_CHECK(false, std::string("reply is not JSON: ") + e.what() + "\n" + reply);
  }
  FUZZ_CHECK(r.is_object() && r.contains("ok") && r["ok"].is_boolean(),
             "reply without ok: " + reply);
  if (!r["ok"].get<bool>())
    FUZZ_CHECK(r.contains("error") && r["error"].is_string(), "refusal without error: " + reply);

  json req;
  try {
    req = json::parse(line);
  } catch (const json::exception&) {
    FUZZ_CHECK(!r["ok"].get<bool>(), "malformed request accepted: " + reply);
    return 0;
  }
  if (req.is_object() && req.value("cmd", json()) == "echo" && r["ok"].get<bool>())
    FUZZ_CHECK(r["result"] == (req.contains("args") ? req["args"] : json::object()),
               "echo returned something else: " + reply);
  return 0;
}
