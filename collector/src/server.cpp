#include "server.hpp"

#include <arpa/inet.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
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
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "handler.hpp"
#include "sqlite_store.hpp"
#include "writer.hpp"

namespace seatlock::collector {
namespace {

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

// "address" (the per-address budget key) and "address:port" (log lines) of an accepted peer.
void describe_peer(const sockaddr_storage& ss, socklen_t len, std::string& address,
                   std::string& peer) {
  char name[NI_MAXHOST], serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, name, sizeof name, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    address = peer = "?";
    return;
  }
  address = name;
  peer = ss.ss_family == AF_INET6 ? "[" + address + "]:" + serv : address + ":" + serv;
}

struct Shared {
  ConnContext cx;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::size_t active = 0;  // connection threads alive
};

struct ThreadArg {
  Shared* sh;
  int fd;
  ConnRegistry::Id id;
  std::string peer;
  std::chrono::steady_clock::time_point accepted;
};

void* connection_main(void* p) {
  std::unique_ptr<ThreadArg> arg(static_cast<ThreadArg*>(p));
  Shared& sh = *arg->sh;
  serve_connection(sh.cx, arg->fd, arg->id, arg->peer, arg->accepted);
  std::lock_guard lk(sh.mu);
  if (--sh.active == 0) sh.cv.notify_all();
  return nullptr;
}

// Every connection needs a descriptor: use the hard limit, not the (often 1024) soft one.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
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
  raise_fd_limit();
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

  ConnRegistry registry(opts.limits);
  Shared sh;
  sh.cx.ctx = ctx.get();
  sh.cx.handler = &handler;
  sh.cx.registry = &registry;
  sh.cx.timeouts = opts.timeouts;
  sh.cx.stopping = &sh.stopping;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kThreadStack);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

  IngestWriter::Stats last_stats;
  auto last_refusal_log = std::chrono::steady_clock::now() - std::chrono::seconds(60);
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
        ConnRegistry::Counts conns = registry.counts();
        {
          std::lock_guard lk(sh.mu);
          active = sh.active;
        }
        std::fprintf(
            stderr,
            "seatlock-collector: %.0f events/s stored, %llu commits (%.1f batches each, %.1f ms in "
            "store "
            "each), %zu connections (%zu not authenticated; since start %llu displaced, %llu "
            "refused)\n",
            static_cast<double>(st.events - last_stats.events) / secs,
            static_cast<unsigned long long>(commits),
            static_cast<double>(st.batches - last_stats.batches) / static_cast<double>(commits),
            1000 * (st.commit_seconds - last_stats.commit_seconds) / static_cast<double>(commits),
            active, conns.unauthenticated, static_cast<unsigned long long>(conns.displaced),
            static_cast<unsigned long long>(conns.refused));
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
    sockaddr_storage ss{};
    socklen_t sslen = sizeof ss;
    int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &sslen, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: free one held by a client that has not authenticated.
      if (errno == EMFILE || errno == ENFILE) registry.displace_oldest_unauthenticated();
      continue;
    }
    auto accepted = std::chrono::steady_clock::now();
    std::string address, peer, why;
    describe_peer(ss, sslen, address, peer);
    auto id = registry.admit(fd, address, why);
    if (!id) {
      close(fd);  // the seat backs off and retries
      if (auto now = std::chrono::steady_clock::now();
          now - last_refusal_log >= std::chrono::seconds(10)) {
        std::fprintf(stderr, "seatlock-collector: %s: connection refused: %s\n", peer.c_str(),
                     why.c_str());
        last_refusal_log = now;
      }
      continue;
    }
    {
      std::lock_guard lk(sh.mu);
      ++sh.active;
    }
    pthread_t th;
    auto* arg = new ThreadArg{&sh, fd, *id, peer, accepted};
    if (pthread_create(&th, &attr, connection_main, arg) != 0) {
      delete arg;
      registry.remove(*id);
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
