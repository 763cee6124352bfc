#include "usbd/channel_server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "os/base/log.hpp"

namespace seatlock {

ChannelServer::ChannelServer(EpollLoop& loop, std::string path, RequestHandler on_request,
                             std::function<void()> on_connect)
    : loop_(loop),
      path_(std::move(path)),
      on_request_(std::move(on_request)),
      on_connect_(std::move(on_connect)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) throw std::runtime_error(path_ + ": path too long");
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  listen_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  ::unlink(path_.c_str());  // a stale socket of an earlier run
  // Bound with mode 0600 from the start: no window in which others could connect.
  const mode_t old = ::umask(0177);
  const int rc = ::bind(listen_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0 || ::listen(listen_, 4) < 0) {
    const int err = errno;
    ::close(listen_);
    throw std::runtime_error(path_ + ": " + std::strerror(err));
  }
  loop_.add(listen_, EPOLLIN, [this](std::uint32_t) { accept_client(); });
}

ChannelServer::~ChannelServer() {
  drop_client();
  loop_.remove(listen_);
  ::close(listen_);
  ::unlink(path_.c_str());
}

void ChannelServer::accept_client() {
  for (;;) {
    const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        (cred.uid != 0 && cred.uid != ::geteuid())) {
      log_warning("usbd: refused a connection from uid " + std::to_string(cred.uid));
      ::close(fd);
      continue;
    }
    drop_client();  // seatlockd restarted: the newest connection is the live one
    client_ = fd;
    loop_.add(client_, EPOLLIN, [this](std::uint32_t ev) {
      if (ev & (EPOLLHUP | EPOLLERR) && !(ev & EPOLLIN))
        drop_client();
      else
        read_client();
    });
    if (on_connect_) on_connect_();
  }
}

void ChannelServer::read_client() {
  std::vector<char> buf(kMaxMessage);
  while (client_ >= 0) {
    const ssize_t n = ::recv(client_, buf.data(), buf.size(), MSG_TRUNC);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      drop_client();
      return;
    }
    if (n < 0) return;
    nlohmann::json reply;
    nlohmann::json request;
    if (static_cast<std::size_t>(n) > buf.size()) {
      reply = {{"ok", false}, {"error", "message larger than 256 KiB"}};
    } else {
      request = nlohmann::json::parse(buf.data(), buf.data() + n, nullptr, false);
      if (!request.is_object()) {
        reply = {{"ok", false}, {"error", "not a JSON object"}};
      } else {
        try {
          reply = {{"ok", true}, {"result", on_request_(request)}};
        } catch (const std::exception& e) {
          reply = {{"ok", false}, {"error", e.what()}};
        }
      }
    }
    if (request.is_object() && request.contains("id")) reply["id"] = request["id"];
    send(reply);
  }
}

bool ChannelServer::send(const nlohmann::json& message) {
  if (client_ < 0) return false;
  const std::string text = message.dump();
  if (::send(client_, text.data(), text.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(text.size())) {
    log_warning(std::string("usbd: seatlockd channel: ") + std::strerror(errno));
    drop_client();
    return false;
  }
  return true;
}

void ChannelServer::drop_client() {
  if (client_ < 0) return;
  loop_.remove(client_);
  ::close(client_);
  client_ = -1;
}

}  // namespace seatlock
