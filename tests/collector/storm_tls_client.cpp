#include "storm_tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

namespace seatlock::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRequestTimeout = std::chrono::seconds(60);  // http_post()'s default

enum class Phase { idle, tcp, handshake, sending, receiving };

struct Conn {
  const StormSeat* plan = nullptr;
  std::size_t next = 0;     // the post being delivered
  int failed_connects = 0;  // in a row: the backoff doubles
  Phase phase = Phase::idle;
  bool done = false;
  int fd = -1;
  SSL* ssl = nullptr;
  Clock::time_point started{}, retry_at{}, connected{};
  std::string out, in;
  std::size_t out_off = 0;
};

struct Answer {
  long status = 0;
  std::string retry_after, body;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

// A complete answer in `in`? (headers and Content-Length bytes of body; or everything at EOF)
bool parse_answer(const std::string& in, bool eof, Answer& a) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = lower(in.substr(0, end + 2));
  std::size_t length = std::string::npos;
  if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
    length = std::strtoul(head.c_str() + at + 17, nullptr, 10);
  if (length == std::string::npos ? !eof : in.size() < end + 4 + length) return false;
  if (head.rfind("http/1.", 0) != 0 || head.size() < 12) return false;
  a.status = std::strtol(head.c_str() + 9, nullptr, 10);
  if (auto at = head.find("\r\nretry-after:"); at != std::string::npos) {
    auto v = in.substr(at + 14, in.find("\r\n", at + 2) - at - 14);
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    a.retry_after = v;
  }
  a.body = in.substr(end + 4, length);
  return true;
}

class Driver {
 public:
  Driver(const std::vector<StormSeat>& seats, const StormTarget& t, StormResult& r,
         std::vector<double>& finished)
      : target_(t), r_(r), finished_(finished), conns_(seats.size()) {
    for (std::size_t i = 0; i < seats.size(); ++i) conns_[i].plan = &seats[i];
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_ || SSL_CTX_load_verify_locations(ctx_, t.ca.c_str(), nullptr) != 1)
      throw std::runtime_error("storm client: cannot load CA " + t.ca);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);  // a full handshake every time
    SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    host_ = "127.0.0.1:" + std::to_string(t.port);
  }
  ~Driver() {
    for (auto& c : conns_) drop(c);
    SSL_CTX_free(ctx_);
    if (epoll_ >= 0) close(epoll_);
  }

  void run() {
    t0_ = Clock::now();
    for (auto& c : conns_) start(c);
    std::vector<epoll_event> events(1024);
    auto last_scan = Clock::now();
    while (r_.seats_done < conns_.size()) {
      if (target_.give_up_s > 0 &&
          Clock::now() - t0_ > std::chrono::duration<double>(target_.give_up_s))
        break;
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 20);
      for (int k = 0; k < n; ++k) advance(conns_[events[k].data.u32]);
      auto now = Clock::now();
      if (now - last_scan < std::chrono::milliseconds(50)) continue;
      last_scan = now;
      for (auto& c : conns_) {
        if (c.done) continue;
        if (c.phase == Phase::idle) {
          if (c.retry_at <= now) start(c);
        } else if ((c.phase == Phase::tcp || c.phase == Phase::handshake) &&
                   now - c.started > connect_timeout_) {
          failed(c, (c.phase == Phase::tcp ? "connect timeout in TCP connect"
                                           : "connect timeout in TLS handshake"));
        } else if (now - c.started > kRequestTimeout) {
          failed(c, "request timeout 60 s");
        }
      }
    }
  }

 private:
  std::uint32_t index(const Conn& c) const {
    return static_cast<std::uint32_t>(&c - conns_.data());
  }

  void watch(Conn& c, std::uint32_t events, int op = EPOLL_CTL_MOD) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = index(c);
    epoll_ctl(epoll_, op, c.fd, &ev);
  }

  void drop(Conn& c) {
    if (c.ssl) {
      SSL_shutdown(c.ssl);  // close_notify, once, without waiting for the peer's
      ERR_clear_error();    // a failed shutdown must not turn another seat's WANT_READ fatal
      SSL_free(c.ssl);
      c.ssl = nullptr;
    }
    if (c.fd >= 0) close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    c.phase = Phase::idle;
    c.in.clear();
    c.out.clear();
  }

  void start(Conn& c) {
    ++r_.connections;
    c.started = Clock::now();
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return failed(c, std::string("socket: ") + std::strerror(errno));
    sockaddr_in src{}, dst{};
    src.sin_family = dst.sin_family = AF_INET;
    inet_pton(AF_INET, c.plan->source.c_str(), &src.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    dst.sin_port = htons(static_cast<std::uint16_t>(target_.port));
    if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      return failed(c, std::string("bind: ") + std::strerror(errno));
    c.phase = Phase::tcp;
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)
      return failed(c, std::string("connect: ") + std::strerror(errno));
    watch(c, EPOLLOUT, EPOLL_CTL_ADD);
  }

  void advance(Conn& c) {
    if (c.fd < 0) return;  // defensive: no socket, nothing to advance
    if (c.phase == Phase::tcp) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == EINPROGRESS) return;
      if (err != 0) return failed(c, std::string("connect: ") + std::strerror(err));
      c.connected = Clock::now();
      double tcp_s = std::chrono::duration<double>(c.connected - c.started).count();
      r_.max_tcp_connect_s = std::max(r_.max_tcp_connect_s, tcp_s);
      if (tcp_s > 1.0) ++r_.slow_tcp_connects;  // the first SYN was dropped (resent after 1 s)
      c.ssl = SSL_new(ctx_);
      SSL_set_fd(c.ssl, c.fd);
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.ssl), "127.0.0.1");  // as curl checks
      c.phase = Phase::handshake;
    }
    if (c.phase == Phase::handshake) {
      ERR_clear_error();  // SSL_get_error reads the thread's queue: start it empty
      int rc = SSL_connect(c.ssl);
      if (rc != 1) return wait_or_fail(c, rc, "TLS handshake");
      r_.max_tls_wait_s = std::max(
          r_.max_tls_wait_s, std::chrono::duration<double>(Clock::now() - c.connected).count());
      const Post& p = c.plan->posts[c.next];
      const std::string& body = c.plan->bodies[c.next];
      c.out = "POST /v1/events HTTP/1.1\r\nHost: " + host_ + "\r\nAccept: */*\r\n";
      for (const auto& h : p.headers) c.out += h + "\r\n";
      c.out += "Content-Encoding: gzip\r\nAuthorization: Bearer " + c.plan->token +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      c.out_off = 0;
      c.phase = Phase::sending;
    }
    if (c.phase == Phase::sending) {
      while (c.out_off < c.out.size()) {
        ERR_clear_error();
        int rc =
            SSL_write(c.ssl, c.out.data() + c.out_off, static_cast<int>(c.out.size() - c.out_off));
        if (rc <= 0) return wait_or_fail(c, rc, "sending the request");
        c.out_off += static_cast<std::size_t>(rc);
      }
      c.phase = Phase::receiving;
      watch(c, EPOLLIN);
    }
    if (c.phase == Phase::receiving) {
      char buf[16384];
      bool eof = false;
      std::string why_eof;
      for (;;) {
        ERR_clear_error();
        int rc = SSL_read(c.ssl, buf, sizeof buf);
        if (rc > 0) {
          c.in.append(buf, static_cast<std::size_t>(rc));
          continue;
        }
        int e = SSL_get_error(c.ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        eof = true;  // close_notify, or the peer closed/reset: the answer is what came
        why_eof = e == SSL_ERROR_ZERO_RETURN ? "close_notify"
                  : e == SSL_ERROR_SYSCALL   ? (errno ? std::strerror(errno) : "EOF")
                                             : "SSL error " + std::to_string(e);
        ERR_clear_error();
        break;
      }
      Answer a;
      if (parse_answer(c.in, eof, a)) return answered(c, a);
      if (eof)
        return failed(c, (c.in.empty() ? "connection closed before an answer ("
                                       : "connection closed mid-answer (") +
                             why_eof + ")");
    }
  }

  // A non-blocking SSL call that did not finish: wait for the socket, or it failed.
  void wait_or_fail(Conn& c, int rc, const char* what) {
    int e = SSL_get_error(c.ssl, rc);
    if (e == SSL_ERROR_WANT_READ) return watch(c, EPOLLIN);
    if (e == SSL_ERROR_WANT_WRITE) return watch(c, EPOLLOUT);
    std::string why = std::string(what) + ": ";
    unsigned long code = ERR_get_error();
    if (code) {
      char text[256];
      ERR_error_string_n(code, text, sizeof text);
      why += text;
    } else {
      why += e == SSL_ERROR_SYSCALL && errno ? std::strerror(errno) : "connection closed";
    }
    ERR_clear_error();
    failed(c, why);
  }

  void failed(Conn& c, const std::string& why) {
    drop(c);
    ++r_.transport_error_total;
    ++r_.transport_errors[why];
    double d = std::min(60.0, double(1 << std::min(c.failed_connects++, 6)));
    wait(c, std::uniform_real_distribution<double>(d / 2, d)(rng_));
  }

  void answered(Conn& c, const Answer& a) {
    drop(c);
    c.failed_connects = 0;
    ++r_.by_status[a.status];
    if (a.status == 200) {
      auto j = nlohmann::json::parse(a.body, nullptr, false);
      if (j.is_object()) {
        r_.acked += j.value("stored", 0u);
        r_.duplicates += j.value("duplicates", 0u);
      }
      if (++c.next >= c.plan->posts.size()) {
        c.done = true;
        ++r_.seats_done;
        finished_.push_back(std::chrono::duration<double>(Clock::now() - t0_).count());
        return;
      }
      return wait(c, 0);
    }
    if ((a.status == 429 || a.status == 503) && a.retry_after.empty()) ++r_.without_retry_after;
    if (r_.first_non_200.empty())
      r_.first_non_200 = std::to_string(a.status) + " " + a.body.substr(0, 200);
    // The agent waits exactly Retry-After (parse_retry_after), then resends the batch.
    wait(c, a.retry_after.empty() ? 5.0 : std::strtod(a.retry_after.c_str(), nullptr));
  }

  void wait(Conn& c, double seconds) {
    c.retry_at = Clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    if (seconds <= 0) start(c);
  }

  const StormTarget& target_;
  StormResult& r_;
  std::vector<double>& finished_;
  std::vector<Conn> conns_;
  SSL_CTX* ctx_ = nullptr;
  int epoll_ = -1;
  std::string host_;
  std::chrono::duration<double> connect_timeout_{target_.connect_timeout_s};
  Clock::time_point t0_{};
  std::mt19937 rng_{7};
};

}  // namespace

void run_tls_seats(const std::vector<StormSeat>& seats, const StormTarget& target, StormResult& r,
                   std::vector<double>& finished) {
  signal(SIGPIPE, SIG_IGN);  // a write to a connection the collector closed must fail, not kill
  Driver(seats, target, r, finished).run();
}

}  // namespace seatlock::testing
