#include "server.hpp"

#include <arpa/inet.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "handler.hpp"
#include "sqlite_store.hpp"
#include "writer.hpp"

namespace seatlock::collector {
namespace {

constexpr std::size_t kMaxHeadBytes = 16 * 1024;
constexpr std::size_t kThreadStack = 256 * 1024;

int open_listener(const std::string& listen, std::string& bound) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("--listen: expected HOST:PORT, got \"" + listen + "\"");
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
      rc != 0)
    throw std::runtime_error("--listen " + listen + ": " + gai_strerror(rc));
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    std::string err = std::strerror(errno);
    freeaddrinfo(res);
    if (fd >= 0) close(fd);
    throw std::runtime_error("--listen " + listen + ": " + err);
  }
  freeaddrinfo(res);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  char name[NI_MAXHOST], serv[NI_MAXSERV];
  getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, name, sizeof name, serv, sizeof serv,
              NI_NUMERICHOST | NI_NUMERICSERV);
  bound =
      (ss.ss_family == AF_INET6 ? "[" + std::string(name) + "]" : std::string(name)) + ":" + serv;
  return fd;
}

std::string peer_name(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  char name[NI_MAXHOST], serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, name, sizeof name, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "?";
  return std::string(name) + ":" + serv;
}

struct Shared {
  SSL_CTX* ctx;
  RequestHandler* handler;
  int idle_timeout_s;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::size_t active = 0;
};

// One client connection: TLS handshake, then requests until close, idle timeout or stop.
class Connection {
 public:
  Connection(Shared& sh, int fd) : sh_(sh), fd_(fd), peer_(peer_name(fd)) {}
  ~Connection() {
    if (ssl_) SSL_free(ssl_);
    close(fd_);
  }
  void run();

 private:
  enum class Wait { ready, idle, stop };
  Wait wait_readable(bool mid_request);
  // Appends at least one byte to buf_; false on EOF/error/timeout.
  bool fill(bool mid_request);
  bool read_request(HttpRequest& req, HttpResponse& early);
  bool write_all(const std::string& data);

  Shared& sh_;
  int fd_;
  std::string peer_;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

Connection::Wait Connection::wait_readable(bool mid_request) {
  if (SSL_pending(ssl_) > 0) return Wait::ready;
  auto start = std::chrono::steady_clock::now();
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, 250);
    if (rc > 0) return Wait::ready;
    if (rc < 0 && errno != EINTR) return Wait::stop;
    if (!mid_request && sh_.stopping.load()) return Wait::stop;
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(sh_.idle_timeout_s))
      return Wait::idle;
  }
}

bool Connection::fill(bool mid_request) {
  constexpr std::size_t kChunk = 16384;
  while (true) {
    if (wait_readable(mid_request) != Wait::ready) return false;
    std::size_t used = buf_.size();
    buf_.resize(used + kChunk);
    int n = SSL_read(ssl_, buf_.data() + used, static_cast<int>(kChunk));
    buf_.resize(used + static_cast<std::size_t>(n > 0 ? n : 0));
    if (n > 0) return true;
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
    return false;
  }
}

bool Connection::write_all(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    int n = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
    if (n <= 0) {
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

// false = close the connection (after sending `early` if its status is set).
bool Connection::read_request(HttpRequest& req, HttpResponse& early) {
  size_t head_end;
  while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > kMaxHeadBytes) {
      early = error_response(431, "request head exceeds 16 KiB");
      return false;
    }
    if (!fill(!buf_.empty())) return false;
  }
  if (auto err = parse_request_head(std::string_view(buf_).substr(0, head_end), req)) {
    early = error_response(400, *err);
    return false;
  }
  buf_.erase(0, head_end + 4);
  bool chunked = req.header("transfer-encoding").find("chunked") != std::string::npos;
  std::string cl = req.header("content-length");
  size_t length = 0;
  if (!chunked && !cl.empty()) {
    try {
      length = std::stoul(cl);
    } catch (...) {
      early = error_response(400, "malformed Content-Length");
      return false;
    }
  } else if (!chunked && req.method == "POST") {
    early = error_response(411, "Content-Length or chunked transfer encoding required");
    return false;
  }
  if (!chunked && length > kMaxBodyBytes) {
    early = error_response(413, "body exceeds 1 MiB; split the batch");
    return false;
  }
  if (req.header("expect") == "100-continue" && !write_all("HTTP/1.1 100 Continue\r\n\r\n"))
    return false;
  if (chunked) {
    ChunkedDecoder dec;
    while (true) {
      auto st = dec.feed(buf_, req.body, kMaxBodyBytes);
      if (st == ChunkedDecoder::State::done) break;
      if (st == ChunkedDecoder::State::error) {
        early = dec.error() == "too large"
                    ? error_response(413, "body exceeds 1 MiB; split the batch")
                    : error_response(400, dec.error());
        return false;
      }
      if (!fill(true)) return false;
    }
  } else {
    while (buf_.size() < length)
      if (!fill(true)) return false;
    req.body.assign(buf_, 0, length);
    buf_.erase(0, length);
  }
  return true;
}

void Connection::run() {
  timeval tv{30, 0};  // backstop for a peer that stalls mid-record
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ssl_ = SSL_new(sh_.ctx);
  SSL_set_fd(ssl_, fd_);
  if (SSL_accept(ssl_) != 1) {
    std::fprintf(stderr, "seatlock-collector: %s: TLS handshake failed: %s\n", peer_.c_str(),
                 openssl_error().c_str());
    return;
  }
  std::optional<std::string> cn = verified_peer_cn(ssl_);
  while (true) {
    HttpRequest req;
    HttpResponse early;
    early.status = 0;
    if (!read_request(req, early)) {
      if (early.status != 0) write_all(format_response(early, false));
      break;
    }
    HttpResponse resp = sh_.handler->handle(req, cn, peer_);
    req.body = std::string();  // idle keep-alive connections hold no request memory
    if (buf_.capacity() > 64 * 1024) buf_.shrink_to_fit();
    bool keep = req.keep_alive() && !sh_.stopping.load();
    if (!write_all(format_response(resp, keep)) || !keep) break;
  }
  SSL_shutdown(ssl_);
}

void* connection_main(void* arg) {
  auto* c = static_cast<std::pair<Shared*, int>*>(arg);
  Shared& sh = *c->first;
  int fd = c->second;
  delete c;
  {
    Connection conn(sh, fd);
    conn.run();
  }
  std::lock_guard lk(sh.mu);
  if (--sh.active == 0) sh.cv.notify_all();
  return nullptr;
}

}  // namespace

int serve(const ServeOptions& opts) {
  // Signals are taken synchronously through a signalfd; block them before any thread starts.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

  // Many connection threads: a few malloc arenas keep freed request buffers from piling up.
  mallopt(M_ARENA_MAX, 2);
  SslCtx ctx = make_server_ctx(opts.cert, opts.key, opts.ca, opts.auth);
  auto store = open_sqlite_store(opts.db, true, /*background_checkpoint=*/true);
  IngestWriter writer(*store, opts.max_pending_events);
  RequestHandler handler(*store, writer, opts.auth);
  std::string bound;
  int lfd = open_listener(opts.listen, bound);
  std::printf("listening %s\n", bound.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "seatlock-collector: listening on %s, database %s\n", bound.c_str(),
               opts.db.c_str());

  Shared sh;
  sh.ctx = ctx.get();
  sh.handler = &handler;
  sh.idle_timeout_s = opts.idle_timeout_s;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kThreadStack);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

  IngestWriter::Stats last_stats;
  auto last_report = std::chrono::steady_clock::now();
  while (true) {
    pollfd p[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    int prc = poll(p, 2, 1000);
    if (auto now = std::chrono::steady_clock::now();
        now - last_report >= std::chrono::seconds(opts.stats_interval_s)) {
      // One line per interval while batches arrive: throughput and group-commit sizes.
      auto st = writer.stats();
      if (st.commits != last_stats.commits) {
        double secs = std::chrono::duration<double>(now - last_report).count();
        auto commits = st.commits - last_stats.commits;
        std::size_t active;
        {
          std::lock_guard lk(sh.mu);
          active = sh.active;
        }
        std::fprintf(
            stderr,
            "seatlock-collector: %.0f events/s stored, %llu commits (%.1f batches each, %.1f ms in "
            "store "
            "each), %zu connections\n",
            static_cast<double>(st.events - last_stats.events) / secs,
            static_cast<unsigned long long>(commits),
            static_cast<double>(st.batches - last_stats.batches) / static_cast<double>(commits),
            1000 * (st.commit_seconds - last_stats.commit_seconds) / static_cast<double>(commits),
            active);
      }
      last_stats = st;
      last_report = now;
    }
    if (prc == 0) continue;
    if (prc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents & POLLIN) {
      signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si)
        std::fprintf(stderr, "seatlock-collector: signal %u, finishing requests in flight\n",
                     si.ssi_signo);
      break;
    }
    if (!(p[0].revents & POLLIN)) continue;
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lk(sh.mu);
      if (sh.active >= opts.max_connections) {
        close(fd);  // over the cap: the seat backs off and retries
        continue;
      }
      ++sh.active;
    }
    pthread_t th;
    auto* arg = new std::pair<Shared*, int>(&sh, fd);
    if (pthread_create(&th, &attr, connection_main, arg) != 0) {
      delete arg;
      close(fd);
      std::lock_guard lk(sh.mu);
      --sh.active;
    }
  }
  close(lfd);
  sh.stopping = true;
  {
    std::unique_lock lk(sh.mu);
    sh.cv.wait_for(lk, std::chrono::seconds(30), [&] { return sh.active == 0; });
    if (sh.active)
      std::fprintf(stderr, "seatlock-collector: %zu connections still open at exit\n", sh.active);
  }
  writer.stop();
  std::fprintf(stderr, "seatlock-collector: stopped (%llu events stored this run)\n",
               static_cast<unsigned long long>(writer.committed_events()));
  {
    // Stuck connections still point at this frame: leave without unwinding it.
    std::lock_guard lk(sh.mu);
    if (sh.active) std::_Exit(0);
  }
  pthread_attr_destroy(&attr);
  close(sfd);
  return 0;
}

}  // namespace seatlock::collector
