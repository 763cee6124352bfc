#include "connection.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace seatlock::collector {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxHeadBytes = 16 * 1024;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Connection {
 public:
  Connection(const ConnContext& cx, int fd, ConnRegistry::Id id, std::string peer)
      : cx_(cx), fd_(fd), id_(id), peer_(std::move(peer)) {}
  ~Connection() {
    if (ssl_) SSL_free(ssl_);
    cx_.registry->remove(id_);
    close(fd_);
  }
  void run(Clock::time_point accepted);

 private:
  enum class Io { ok, closed, timeout, stopping };
  Io wait(short events, Clock::time_point deadline, bool stop_aware);
  Io handshake(Clock::time_point deadline);
  Io fill(Clock::time_point deadline, bool stop_aware);  // appends at least one byte to buf_
  bool write_all(const std::string& data, Clock::time_point deadline);
  bool send(const HttpResponse& r, bool keep_alive);
  // After answering without reading what the client is still sending: let the answer reach
  // it (closing with unread data would reset the connection and could destroy the answer)
  // by discarding, not buffering, at most kLingerBytes for at most 1 s.
  void linger_close();
  // false = close (after sending `early` when its status is set).
  bool read_head(HttpRequest& req, HttpResponse& early);
  bool read_body(HttpRequest& req, HttpResponse& early);
  void log(const std::string& what) {
    std::fprintf(stderr, "seatlock-collector: %s: %s\n", peer_.c_str(), what.c_str());
  }

  const ConnContext& cx_;
  int fd_;
  ConnRegistry::Id id_;
  std::string peer_;
  SSL* ssl_ = nullptr;
  std::string buf_;
  bool authenticated_ = false;
};

Connection::Io Connection::wait(short events, Clock::time_point deadline, bool stop_aware) {
  while (true) {
    auto now = Clock::now();
    if (now >= deadline) return Io::timeout;
    if (stop_aware && cx_.stopping->load()) return Io::stopping;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    pollfd p{fd_, events, 0};
    int rc = poll(&p, 1, static_cast<int>(std::min<long long>(left, 250)));
    if (rc > 0) return Io::ok;  // also POLLHUP/POLLERR: the next SSL call reports it
    if (rc < 0 && errno != EINTR) return Io::closed;
  }
}

Connection::Io Connection::handshake(Clock::time_point deadline) {
  while (true) {
    ERR_clear_error();
    int rc = SSL_accept(ssl_);
    if (rc == 1) return Io::ok;
    int err = SSL_get_error(ssl_, rc);
    short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!ev) return Io::closed;
    if (Io w = wait(ev, deadline, /*stop_aware=*/true); w != Io::ok) return w;
  }
}

Connection::Io Connection::fill(Clock::time_point deadline, bool stop_aware) {
  constexpr std::size_t kChunk = 16384;
  while (true) {
    std::size_t used = buf_.size();
    buf_.resize(used + kChunk);
    ERR_clear_error();
    int n = SSL_read(ssl_, buf_.data() + used, static_cast<int>(kChunk));
    buf_.resize(used + static_cast<std::size_t>(n > 0 ? n : 0));
    if (n > 0) return Io::ok;
    int err = SSL_get_error(ssl_, n);
    short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!ev) return Io::closed;
    if (Io w = wait(ev, deadline, stop_aware); w != Io::ok) return w;
  }
}

bool Connection::write_all(const std::string& data, Clock::time_point deadline) {
  std::size_t off = 0;
  while (off < data.size()) {
    ERR_clear_error();
    int n = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!ev || wait(ev, deadline, false) != Io::ok) return false;
  }
  return true;
}

bool Connection::send(const HttpResponse& r, bool keep_alive) {
  return write_all(format_response(r, keep_alive),
                   Clock::now() + std::chrono::seconds(cx_.timeouts.body_s));
}

void Connection::linger_close() {
  constexpr std::size_t kLingerBytes = 256 * 1024;
  SSL_shutdown(ssl_);
  ::shutdown(fd_, SHUT_WR);
  auto deadline = Clock::now() + std::chrono::seconds(1);
  char sink[4096];
  std::size_t total = 0;
  while (total < kLingerBytes && wait(POLLIN, deadline, false) == Io::ok) {
    ssize_t n = recv(fd_, sink, sizeof sink, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
  }
}

bool Connection::read_head(HttpRequest& req, HttpResponse& early) {
  const auto& t = cx_.timeouts;
  bool started = !buf_.empty();
  // Only an authenticated connection may sit idle between requests; for any other the head
  // deadline runs from the end of the handshake and never moves.
  auto deadline =
      Clock::now() + std::chrono::seconds(started || !authenticated_ ? t.head_s : t.idle_s);
  std::size_t head_end;
  while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > kMaxHeadBytes) {
      early = error_response(431, "request head exceeds 16 KiB");
      return false;
    }
    Io r = fill(deadline, !started);
    if (r == Io::timeout && (started || !authenticated_)) {
      early = error_response(408,
                             "request head not complete within " + std::to_string(t.head_s) + " s");
      log(early.body);
      return false;
    }
    if (r != Io::ok) return false;
    if (!started && authenticated_) deadline = Clock::now() + std::chrono::seconds(t.head_s);
    started = true;
  }
  if (auto err = parse_request_head(std::string_view(buf_).substr(0, head_end), req)) {
    early = error_response(400, *err);
    return false;
  }
  buf_.erase(0, head_end + 4);
  return true;
}

bool Connection::read_body(HttpRequest& req, HttpResponse& early) {
  std::string te = lower(req.header("transfer-encoding"));
  std::size_t cl_count = 0;
  for (const auto& [k, v] : req.headers) cl_count += k == "content-length";
  if (!te.empty() && cl_count > 0) {
    early = error_response(400, "both Transfer-Encoding and Content-Length given");
    return false;
  }
  if (!te.empty() && te != "chunked") {
    early = error_response(400, "Transfer-Encoding: only chunked is supported, got \"" + te + "\"");
    return false;
  }
  bool chunked = te == "chunked";
  std::size_t length = 0;
  if (cl_count > 1) {
    early = error_response(400, "more than one Content-Length header");
    return false;
  }
  if (cl_count == 1) {
    auto n = parse_content_length(req.header("content-length"));
    if (!n) {
      early = error_response(400, "malformed Content-Length: expected decimal digits");
      return false;
    }
    length = *n;
  } else if (!chunked) {
    early = error_response(411, "Content-Length or chunked transfer encoding required");
    return false;
  }
  if (!chunked && length > kMaxBodyBytes) {
    early = error_response(413, "body exceeds 1 MiB; split the batch");
    return false;
  }
  auto deadline = Clock::now() + std::chrono::seconds(cx_.timeouts.body_s);
  if (lower(req.header("expect")) == "100-continue" &&
      !write_all("HTTP/1.1 100 Continue\r\n\r\n", deadline))
    return false;
  auto timed_out = [&](Io r) {
    if (r == Io::timeout) {
      early = error_response(
          408, "request body not complete within " + std::to_string(cx_.timeouts.body_s) + " s");
      log(early.body);
    }
    return false;
  };
  if (chunked) {
    ChunkedDecoder dec;
    while (true) {
      auto st = dec.feed(buf_, req.body, kMaxBodyBytes);
      if (st == ChunkedDecoder::State::done) break;
      if (st == ChunkedDecoder::State::error) {
        early = dec.too_large() ? error_response(413, "body exceeds 1 MiB; split the batch")
                                : error_response(400, dec.error());
        return false;
      }
      if (Io r = fill(deadline, false); r != Io::ok) return timed_out(r);
    }
  } else {
    while (buf_.size() < length)
      if (Io r = fill(deadline, false); r != Io::ok) return timed_out(r);
    req.body.assign(buf_, 0, length);
    buf_.erase(0, length);
  }
  return true;
}

void Connection::run(Clock::time_point accepted) {
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  ssl_ = SSL_new(cx_.ctx);
  SSL_set_fd(ssl_, fd_);
  if (Io r = handshake(accepted + std::chrono::seconds(cx_.timeouts.handshake_s)); r != Io::ok) {
    if (r == Io::stopping) return;
    log(r == Io::timeout
            ? "TLS handshake not complete within " + std::to_string(cx_.timeouts.handshake_s) + " s"
            : "TLS handshake failed: " + openssl_error());
    return;
  }
  std::optional<std::string> cn = verified_peer_cn(ssl_);
  if (cn) {
    if (!cx_.registry->authenticated(id_)) return;  // displaced meanwhile
    authenticated_ = true;
  }
  while (true) {
    HttpRequest req;
    HttpResponse early;
    early.status = 0;
    if (!read_head(req, early)) {
      if (early.status != 0 && send(early, false)) return linger_close();
      break;
    }
    Admission a = cx_.handler->admit(req, cn, peer_);
    if (!a.read_body) {
      // Answered from the head alone; a body that was sent along is never read: close.
      bool has_body =
          !req.header("transfer-encoding").empty() ||
          (!req.header("content-length").empty() && req.header("content-length") != "0");
      bool keep = authenticated_ && !has_body && req.keep_alive() && !cx_.stopping->load();
      if (!send(a.response, keep)) break;
      if (!keep) return has_body ? linger_close() : (void)SSL_shutdown(ssl_);
      continue;
    }
    if (!authenticated_) {
      if (!cx_.registry->authenticated(id_)) break;
      authenticated_ = true;
    }
    if (!read_body(req, early)) {
      if (early.status >= 400 && early.status < 500) cx_.handler->note_refusal(a.seat, early);
      if (early.status != 0 && send(early, false)) return linger_close();
      break;
    }
    HttpResponse resp = cx_.handler->handle(req, a.seat, peer_);
    req.body = std::string();  // idle keep-alive connections hold no request memory
    if (buf_.capacity() > 64 * 1024) buf_.shrink_to_fit();
    bool keep = req.keep_alive() && !cx_.stopping->load();
    if (!send(resp, keep) || !keep) break;
  }
  SSL_shutdown(ssl_);
}

}  // namespace

void serve_connection(const ConnContext& cx, int fd, ConnRegistry::Id id, const std::string& peer,
                      std::chrono::steady_clock::time_point accepted) {
  Connection conn(cx, fd, id, peer);
  conn.run(accepted);
}

}  // namespace seatlock::collector
