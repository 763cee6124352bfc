#include "os/uplink/uplink_client.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "os/base/log.hpp"
#include "os/uplink/uplink_wire.hpp"

namespace seatlock {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct UplinkClient::Channel {
  explicit Channel(int f) : fd(f) {}
  ~Channel() { close(fd); }
  int fd;
  std::mutex write_mu;  // one frame at a time on the stream

  bool send(const uplink::Frame& f) {
    std::lock_guard lk(write_mu);
    return uplink::write_frame(fd, f);
  }
};

namespace {

std::string read_whole(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(what + ": cannot read " + path + ": " + strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The child gets the TLS material by content: key files are root-only.
void load_tls(TlsSettings& tls) {
  if (!tls.ca_file.empty() && tls.ca_pem.empty()) tls.ca_pem = read_whole("CA", tls.ca_file);
  if (!tls.cert_file.empty() && tls.cert_pem.empty())
    tls.cert_pem = read_whole("client certificate", tls.cert_file);
  if (!tls.key_file.empty() && tls.key_pem.empty())
    tls.key_pem = read_whole("client key", tls.key_file);
  tls.ca_file.clear();
  tls.cert_file.clear();
  tls.key_file.clear();
}

// seatlockd blocks its stop signals in every thread and reads them on its loop (daemon/
// loop_hooks), so one that is pending means the stop is under way even before the loop has run
// stop(): what happens when systemd signals the cgroup and the child dies first.
bool stop_signal_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 &&
         (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

UplinkClient::UplinkClient(std::string exe) : exe_(std::move(exe)) {
  supervisor_ = std::thread([this] { supervise(); });
}

UplinkClient::~UplinkClient() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    if (channel_) shutdown(channel_->fd, SHUT_RDWR);  // ends serve()'s read
    cv_.notify_all();
  }
  supervisor_.join();
}

void UplinkClient::stop() {
  std::lock_guard lk(mu_);
  stopping_ = true;
  cv_.notify_all();
}

bool UplinkClient::stopping_locked() {
  if (!stopping_ && stop_signal_pending()) {
    stopping_ = true;
    cv_.notify_all();
  }
  return stopping_;
}

HttpResult UplinkClient::perform(const HttpRequest& request, const std::atomic<bool>* abort) {
  HttpResult fail;
  auto aborted = [&] { return abort && abort->load(); };
  HttpRequest req = request;
  try {
    load_tls(req.tls);
  } catch (const std::exception& e) {
    fail.error = e.what();
    return fail;
  }

  std::unique_lock lk(mu_);
  ++requests_;
  if (!wanted_) {
    wanted_ = true;
    cv_.notify_all();
  }
  // A child that is starting or restarting gets a moment; a request never waits for long.
  const auto start_by = Clock::now() + 10s;
  while (!channel_ && !stopping_ && !aborted() && Clock::now() < start_by) cv_.wait_for(lk, 100ms);
  if (!channel_) {
    fail.error = stopping_ || aborted()
                     ? "aborted"
                     : "uplink: seatlock-uplink is not running" +
                           (last_error_.empty() ? std::string() : ": " + last_error_);
    return fail;
  }
  std::shared_ptr<Channel> ch = channel_;
  const std::uint64_t id = next_id_++;
  Pending mine;
  pending_[id] = &mine;
  lk.unlock();
  const bool sent = ch->send(uplink::request_frame(id, req));
  lk.lock();
  if (!sent && !mine.done) {  // the child is gone: serve() fails the others
    pending_.erase(id);
    fail.error = "uplink: cannot send the request to seatlock-uplink";
    return fail;
  }
  // The child enforces timeout_s itself; this only guards against a child that hangs.
  const auto answer_by = Clock::now() + std::chrono::seconds(req.timeout_s + 30);
  while (!mine.done) {
    if (aborted() || Clock::now() >= answer_by) {
      pending_.erase(id);
      lk.unlock();
      ch->send(uplink::cancel_frame(id));
      fail.error = aborted() ? "aborted"
                             : "uplink: no answer from seatlock-uplink within " +
                                   std::to_string(req.timeout_s + 30) + " s";
      return fail;
    }
    cv_.wait_for(lk, 100ms);  // also polls `abort`, which nobody signals on cv_
  }
  return std::move(mine.result);
}

pid_t UplinkClient::child_pid() const {
  std::lock_guard lk(mu_);
  return pid_;
}

nlohmann::json UplinkClient::status() const {
  std::lock_guard lk(mu_);
  std::string state, reason;
  if (stopping_) {
    state = "stopping";
    reason = "seatlockd is stopping";
  } else if (channel_) {
    state = "running";
  } else if (!wanted_) {
    state = "not started";
    reason =
        "no HTTP request yet: it starts with the first one (event delivery, fleet policy "
        "poll or attestation)";
  } else {
    state = starts_ == 0 ? "starting" : "restarting";
    reason = last_error_;
  }
  nlohmann::json j = {{"state", state},    {"exe", exe_},           {"pid", pid_},
                      {"starts", starts_}, {"requests", requests_}, {"in_flight", pending_.size()}};
  if (!reason.empty()) j["reason"] = reason;
  if (!last_error_.empty()) j["last_error"] = last_error_;
  return j;
}

void UplinkClient::wait_backoff(std::int64_t ms) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(ms), [&] { return stopping_; });
}

void UplinkClient::supervise() {
  std::int64_t backoff_ms = 200;
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return wanted_ || stopping_; });
      if (stopping_locked()) return;
    }
    int sv[2];
    pid_t pid = 0;
    try {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(std::string("uplink: socketpair failed: ") + strerror(errno));
      try {
        pid = uplink::spawn_uplink(exe_, sv[1], uplink::resolve_run_as());
      } catch (...) {
        close(sv[0]);
        close(sv[1]);
        throw;
      }
    } catch (const std::exception& e) {
      log_error(std::string(e.what()) + "; retrying in " + std::to_string(backoff_ms) + " ms");
      {
        std::lock_guard lk(mu_);
        last_error_ = e.what();
      }
      wait_backoff(backoff_ms);
      backoff_ms = std::min<std::int64_t>(backoff_ms * 2, 30'000);
      continue;
    }
    close(sv[1]);
    auto ch = std::make_shared<Channel>(sv[0]);
    const auto started = Clock::now();
    {
      std::lock_guard lk(mu_);
      if (!stopping_) {
        channel_ = ch;
        pid_ = pid;
        ++starts_;
        last_error_.clear();
        cv_.notify_all();
      }
    }
    log_info("uplink: " + exe_ + " running (pid " + std::to_string(pid) + ")");
    std::string why = serve(ch);
    if (child_ended(pid, why)) return;
    backoff_ms =
        Clock::now() - started > 10s ? 200 : std::min<std::int64_t>(backoff_ms * 2, 10'000);
    wait_backoff(backoff_ms);
  }
}

std::string UplinkClient::serve(const std::shared_ptr<Channel>& ch) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return "seatlockd is stopping";
  }
  try {
    while (std::optional<uplink::Frame> f = uplink::read_frame(ch->fd)) {
      std::lock_guard lk(mu_);
      auto it = pending_.find(f->head["id"].get<std::uint64_t>());
      if (it == pending_.end()) continue;  // the answer to a request given up (aborted)
      it->second->result = uplink::result_of(*f);
      it->second->done = true;
      pending_.erase(it);
      cv_.notify_all();
    }
    return "its socket closed";
  } catch (const std::exception& e) {
    return e.what();
  }
}

bool UplinkClient::child_ended(pid_t pid, const std::string& why) {
  // The stream is over: a child still running (a broken frame, seatlockd stopping) ends now.
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::lock_guard lk(mu_);
  const std::string how = "seatlock-uplink (pid " + std::to_string(pid) + ") ended: " + why + ", " +
                          describe_exit(status);
  for (auto& [id, p] : pending_) {
    p->result = HttpResult{};
    p->result.error = "uplink: " + how;
    p->done = true;
  }
  const std::size_t failed = pending_.size();
  pending_.clear();
  channel_.reset();
  pid_ = 0;
  cv_.notify_all();
  if (stopping_locked()) {
    log_info("uplink: " + how + "; seatlockd is stopping: not replaced");
    return true;
  }
  last_error_ = how;
  log_warning("uplink: " + how + "; " + std::to_string(failed) +
              " request(s) in flight failed; starting a new one");
  return false;
}

}  // namespace seatlock
