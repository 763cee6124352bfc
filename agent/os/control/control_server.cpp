#include "os/control/control_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/json/bounded_parse.hpp"
#include "os/base/log.hpp"

namespace seatlock {
namespace {

constexpr size_t kMaxRequest = 1 << 20;
constexpr size_t kMaxDepth = 64;  // requests and their args nest a few levels at most

sockaddr_un make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("control socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// Reads one '\n'-terminated line (or until EOF), waiting at most timeout_ms in total: a
// deadline, not a per-read timeout, so a client trickling bytes cannot hold the loop longer.
bool read_line(int fd, std::string& out, int timeout_ms) {
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r <= 0) return false;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return !out.empty();
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxRequest) return false;
  }
  out.resize(out.find('\n'));
  return true;
}

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ControlServer::ControlServer(sd_event* loop, std::string socket_path, uid_t allowed_uid)
    : path_(std::move(socket_path)), allowed_uid_(allowed_uid) {
  std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir);
    chmod(dir.c_str(), 0755);
  }
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0)
    throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
  // Bound under a temporary name and renamed once listening: a client that sees the path
  // (seatlockctl right after start, a test waiting for the file) can always connect to it.
  const std::string staging = path_ + ".new";
  sockaddr_un addr = make_address(staging);
  unlink(staging.c_str());
  // The mode is a first fence only; every connection's peer uid is checked as well.
  mode_t old = umask(0177);
  int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  umask(old);
  if (rc < 0 || listen(listen_fd_, 16) < 0 ||
      (allowed_uid_ != 0 && chown(staging.c_str(), allowed_uid_, static_cast<gid_t>(-1)) < 0) ||
      rename(staging.c_str(), path_.c_str()) < 0) {
    int e = errno;
    close(listen_fd_);
    unlink(staging.c_str());
    throw std::runtime_error("control socket " + path_ + ": " + std::strerror(e));
  }
  try {
    source_ = add_io_source(loop, listen_fd_, EPOLLIN, &ControlServer::on_accept, this,
                            "control socket " + path_);
  } catch (...) {
    close(listen_fd_);
    unlink(path_.c_str());
    throw;
  }
}

ControlServer::~ControlServer() {
  source_.reset();
  if (listen_fd_ >= 0) close(listen_fd_);
  unlink(path_.c_str());
}

void ControlServer::add(const std::string& cmd, ControlHandler handler) {
  handlers_[cmd] = std::move(handler);
}

int ControlServer::on_accept(sd_event_source*, int fd, uint32_t, void* self) {
  int client = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return 0;
  static_cast<ControlServer*>(self)->serve_one(client);
  close(client);
  return 0;
}

// Requests are short and answered inline on the loop; a slow client is cut off after 2 s.
void ControlServer::serve_one(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  nlohmann::json reply;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
      (cred.uid != 0 && cred.uid != allowed_uid_)) {
    log_warning("control: refused connection from uid " + std::to_string(cred.uid) + " pid " +
                std::to_string(cred.pid));
    write_all(fd, nlohmann::json{{"ok", false},
                                 {"error", "permission denied: seatlock control is root-only"}}
                          .dump() +
                      "\n");
    return;
  }
  std::string line;
  if (!read_line(fd, line, 2000)) {
    write_all(fd, nlohmann::json{{"ok", false},
                                 {"error", "malformed request: expected one JSON line of at most " +
                                               std::to_string(kMaxRequest) + " bytes within 2 s"}}
                          .dump() +
                      "\n");
    return;
  }
  try {
    nlohmann::json req;
    // Depth is checked before a tree is built: handlers copy `args`, recursively.
    if (auto fail = parse_json_bounded(line, req, {kMaxDepth, kMaxRequest, false}))
      throw ControlError("malformed request: " + fail->message);
    if (!req.is_object()) throw ControlError("malformed request: expected a JSON object");
    std::string cmd = req.at("cmd").get<std::string>();
    auto it = handlers_.find(cmd);
    if (it == handlers_.end()) throw ControlError("unknown command '" + cmd + "'");
    nlohmann::json args = req.contains("args") ? req["args"] : nlohmann::json::object();
    reply = {{"ok", true}, {"result", it->second(args)}};
  } catch (const nlohmann::json::exception& e) {
    reply = {{"ok", false}, {"error", std::string("malformed request: ") + e.what()}};
  } catch (const std::exception& e) {
    reply = {{"ok", false}, {"error", e.what()}};
  }
  if (before_reply_) {
    try {
      before_reply_();
    } catch (const std::exception& e) {
      log_warning(std::string("control: before the reply: ") + e.what());
    }
  }
  write_all(fd, reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

nlohmann::json control_call(const std::string& socket_path, const std::string& cmd,
                            const nlohmann::json& args, int timeout_ms) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr = make_address(socket_path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int e = errno;
    close(fd);
    throw std::runtime_error("cannot reach seatlockd at " + socket_path + ": " + std::strerror(e) +
                             (e == EACCES ? " (root only)" : " (is it running?)"));
  }
  std::string line;
  // The reply is read even when sending failed: the daemon refuses a non-root peer before
  // reading its request and closes, so our send can hit EPIPE while the refusal already waits
  // in our receive queue (found as a flaky "root-only" test).
  (void)write_all(fd, nlohmann::json{{"cmd", cmd}, {"args", args}}.dump() + "\n");
  const bool ok = read_line(fd, line, timeout_ms);
  close(fd);
  if (!ok) throw std::runtime_error("seatlockd did not answer '" + cmd + "'");
  auto reply = nlohmann::json::parse(line);
  if (!reply.value("ok", false))
    throw ControlError(reply.value("error", std::string("unknown error")));
  return reply.value("result", nlohmann::json());
}

}  // namespace seatlock
