// Held connections vs. a new seat's upload: opens N mTLS connections to a real
// `seatlock-collector serve`, each with a request sent and its answer held, then times M uploads
// of a small batch by a new seat (new connection + handshake + POST /v1/events each) while they
// are held. Prints the collector's RSS and thread count and the upload latency percentiles.
//
//   collector_idle_bench [--binary PATH] [--connections 10000] [--uploads 200]
//                        [--shape poll|partial-head] [--threads N]
//
// --shape poll (default): `GET /v1/policy?after=0&wait=300` (answered 204 only after 300 s).
// --shape partial-head: the head without its final empty line, for a collector without
// /v1/policy (the previous one): the nearest shape, a connection waiting for its request.
// --binary: the collector to run (default: this build's). All held connections use one seat
// certificate (the collector does not limit connections per seat); uploads use another.
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "raw_client.hpp"

using namespace seatlock::testing;
using Clock = std::chrono::steady_clock;

namespace {

long status_field(pid_t pid, const char* name) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(name, 0) == 0) return std::atol(line.c_str() + std::strlen(name));
  return -1;
}

struct Server {
  pid_t pid = -1;
  int port = 0;
};

Server start(const std::string& binary, const std::string& dir, const Pki& pki,
             const std::vector<std::string>& extra) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> args = {
      binary,   "serve",         "--listen", "127.0.0.1:0",  "--db", dir + "/collector.db",
      "--cert", pki.server_cert, "--key",    pki.server_key, "--ca", pki.ca};
  args.insert(args.end(), extra.begin(), extra.end());
  Server s;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(fds[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);  // one log line per refused/closed connection is not the point here
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    av.push_back(nullptr);
    execv(av[0], av.data());
    _exit(127);
  }
  close(fds[1]);
  FILE* f = fdopen(fds[0], "r");
  char line[256] = {};
  if (!fgets(line, sizeof line, f)) throw std::runtime_error("collector did not start");
  fclose(f);
  s.port = std::atoi(std::strrchr(line, ':') + 1);
  return s;
}

// One held connection: blocking connect + handshake, then the request bytes; kept open.
struct Held {
  int fd = -1;
  SSL* ssl = nullptr;
};

Held open_held(SSL_CTX* ctx, int port, const std::string& request) {
  Held h;
  RawConn* raw = new RawConn(port);  // leaked on purpose: its fd lives as long as the bench
  if (!raw->connected()) return h;
  h.fd = raw->fd();
  h.ssl = SSL_new(ctx);
  SSL_set_fd(h.ssl, h.fd);
  if (SSL_connect(h.ssl) != 1 ||
      SSL_write(h.ssl, request.data(), static_cast<int>(request.size())) <= 0) {
    SSL_free(h.ssl);
    h.ssl = nullptr;
  }
  return h;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string binary = collector_binary(), shape = "poll", threads;
  int connections = 10000, uploads = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--binary")
      binary = v;
    else if (k == "--connections")
      connections = std::atoi(v.c_str());
    else if (k == "--uploads")
      uploads = std::atoi(v.c_str());
    else if (k == "--shape")
      shape = v;
    else if (k == "--threads")
      threads = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  // Both ends need a descriptor per connection; the collector inherits the raised limit.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  signal(SIGPIPE, SIG_IGN);

  TempDir dir;
  Pki pki(dir);
  auto held_seat = pki.seat("held-seat");
  auto new_seat = pki.seat("new-seat");
  std::vector<std::string> extra = {"--max-connections", std::to_string(connections + 1000)};
  if (shape == "partial-head") extra.insert(extra.end(), {"--idle-timeout", "3600"});
  if (!threads.empty()) extra.insert(extra.end(), {"--threads", threads});
  Server srv = start(binary, dir.path, pki, extra);
  long rss_start = status_field(srv.pid, "VmRSS:");

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, pki.ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_use_certificate_chain_file(ctx, held_seat.cert.c_str());
  SSL_CTX_use_PrivateKey_file(ctx, held_seat.key.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  std::string request = shape == "poll"
                            ? "GET /v1/policy?after=0&wait=300 HTTP/1.1\r\nHost: collector\r\n\r\n"
                            : "GET /v1/policy?after=0&wait=300 HTTP/1.1\r\nHost: collector\r\n";
  std::vector<Held> held;
  auto t0 = Clock::now();
  int failed = 0;
  for (int i = 0; i < connections; ++i) {
    Held h = open_held(ctx, srv.port, request);
    if (!h.ssl) ++failed;
    held.push_back(h);
  }
  double open_s = std::chrono::duration<double>(Clock::now() - t0).count();
  long rss_held = status_field(srv.pid, "VmRSS:");
  long threads_held = status_field(srv.pid, "Threads:");

  SeatSim seat("new-seat");
  std::vector<double> ms;
  int upload_errors = 0;
  for (int i = 0; i < uploads; ++i) {
    Post p = seat.post(seat.make(5));
    auto t = Clock::now();
    HttpResult r = post_events("https://127.0.0.1:" + std::to_string(srv.port) + "/v1/events",
                               pki.ca, {new_seat.cert, new_seat.key, ""}, p);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    if (r.status != 200) ++upload_errors;
  }
  long rss_after = status_field(srv.pid, "VmRSS:");
  long hwm = status_field(srv.pid, "VmHWM:");
  // Still held? A held connection answered meanwhile would show up as readable data.
  int answered = 0;
  for (auto& h : held)
    if (h.ssl) {
      // Non-blocking SSL_read: session tickets are consumed, only an HTTP answer counts.
      fcntl(h.fd, F_SETFL, fcntl(h.fd, F_GETFL) | O_NONBLOCK);
      char c;
      answered += SSL_read(h.ssl, &c, 1) > 0;
    }

  std::printf("collector %s, shape %s\n", binary.c_str(), shape.c_str());
  std::printf("  held connections: %d opened in %.1f s (%d failed, %d answered early)\n",
              connections, open_s, failed, answered);
  std::printf(
      "  collector RSS: %ld KiB at start, %ld KiB with them held, %ld KiB after the "
      "uploads (peak %ld KiB); %ld threads\n",
      rss_start, rss_held, rss_after, hwm, threads_held);
  std::printf(
      "  new seat's upload (new mTLS connection + POST 5 events), %d runs: p50 %.1f ms, "
      "p99 %.1f ms, max %.1f ms, %d not 200\n",
      uploads, percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0), upload_errors);
  std::fflush(stdout);
  kill(srv.pid, SIGKILL);  // not a drain test: 10,000 held connections would each get a 204
  waitpid(srv.pid, nullptr, 0);
  return failed || upload_errors ? 1 : 0;
}
