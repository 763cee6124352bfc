// The delivery component of seatlockd: applies report.* to the spool bound and the sender,
// emits heartbeats on an sd-event timer, and relays the sender's own events (from its worker
// thread, through an eventfd) to the reporter on the loop thread.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <fstream>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "core/event/kinds.hpp"
#include "daemon/event_store.hpp"
#include "daemon/service.hpp"
#include "os/base/event_loop.hpp"
#include "os/base/log.hpp"
#include "os/delivery/sender.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

namespace {

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("report.token_file: cannot read " + path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) throw std::runtime_error("report.token_file: " + path + " is empty");
  return token;
}

void require_readable(const std::string& what, const std::string& path) {
  if (!path.empty() && access(path.c_str(), R_OK) != 0)
    throw std::runtime_error(what + ": cannot read " + path);
}

class DeliveryService : public Service {
 public:
  explicit DeliveryService(DaemonContext& ctx)
      : ctx_(ctx),
        spool_(&ctx.events.spool()),
        heartbeat_(ctx.loop, CLOCK_MONOTONIC, 100'000, "delivery: heartbeat",
                   [this](std::uint64_t) { on_heartbeat(); }),
        start_(ctx.loop, CLOCK_MONOTONIC, 1000, "delivery: start the sender",
               [this](std::uint64_t) { start_sender(); }) {
    if (!spool_) throw std::runtime_error("delivery: the event spool is not open");
    notify_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (notify_fd_ < 0) throw std::runtime_error("delivery: eventfd failed");
    try {
      notify_src_ =
          add_io_source(ctx.loop, notify_fd_, EPOLLIN, on_notice, this, "delivery: sender notices");
    } catch (...) {
      close(notify_fd_);
      throw;
    }
    // The seat key is the sender's to load, on its thread after READY=1 (docs/boot.md).
    sender_ = std::make_unique<Sender>(
        *spool_,
        [path = ctx.options.state_dir + "/seat.key"] { return SeatKey::load_or_create(path); },
        [this](Event e) { post_notice(std::move(e)); }, ctx.http);
    ctx.control.add("delivery.status", [this](const nlohmann::json&) { return status(); });
    ctx.control.add("delivery.flush", [this](const nlohmann::json&) {
      sender_->kick();
      return nlohmann::json{{"kicked", true}};
    });
    ctx.control.add("delivery.requeue",
                    [this](const nlohmann::json& args) { return requeue(args); });
  }

  ~DeliveryService() override {
    stop();
    notify_src_.reset();
    if (notify_fd_ >= 0) close(notify_fd_);
  }

  std::string name() const override { return "delivery"; }

  void check(const Policy& p) override {
    if (p.report.collector.empty()) return;
    if (p.report.collector.rfind("https://", 0) != 0 &&
        p.report.collector.rfind("http://127.", 0) != 0)
      throw std::runtime_error("report.collector: expected an https:// URL, got \"" +
                               p.report.collector + "\"");
    require_readable("report.ca", p.report.ca_file);
    require_readable("report.cert", p.report.cert_file);
    require_readable("report.key", p.report.key_file);
    if (!p.report.token_file.empty()) read_token(p.report.token_file);
    if (p.report.cert_file.empty() != p.report.key_file.empty())
      throw std::runtime_error("report: cert and key must be given together");
  }

  void apply(const Policy& p) override {
    spool_->set_max_bytes(p.report.spool_max_bytes);
    SenderConfig cfg;
    cfg.collector = p.report.collector;
    while (!cfg.collector.empty() && cfg.collector.back() == '/') cfg.collector.pop_back();
    cfg.tls.ca_file = p.report.ca_file;
    cfg.tls.cert_file = p.report.cert_file;
    cfg.tls.key_file = p.report.key_file;
    if (!p.report.token_file.empty()) cfg.tls.token = read_token(p.report.token_file);
    cfg.batch_max_events = std::max<std::uint32_t>(1, p.report.batch_max_events);
    cfg.seat_id = ctx_.reporter.seat().seat_id;  // PolicyManager set it before apply()
    sender_->configure(std::move(cfg));
    // At start-up the sender (its thread, the seatlock-uplink child, the first connection)
    // starts from the loop, so after READY=1: delivery is not enforcement (docs/boot.md).
    if (!started_ && !start_.armed() && start_.arm_in(0) < 0) start_sender();
    heartbeat_ms_ = std::max<std::int64_t>(1000, p.report.heartbeat_ms);
    arm_heartbeat();
  }

  nlohmann::json status() const override {
    nlohmann::json j = sender_->status();
    SpoolStats s = spool_->stats();
    j["spool"] = {
        {"path", spool_->path()},   {"head_seq", s.head_seq},       {"queued", s.queued},
        {"delivered", s.delivered}, {"quarantined", s.quarantined}, {"set_aside", s.set_aside},
        {"bytes", s.bytes},         {"max_bytes", s.max_bytes},     {"dropped", s.dropped}};
    j["spool"]["storage"] = ctx_.events.status();  // "degraded" while events wait in memory
    j["heartbeat_ms"] = heartbeat_ms_;
    return j;
  }

  void stop() override {
    start_.disarm();
    sender_->stop();
    heartbeat_.disarm();
  }

 private:
  // delivery.requeue {"first":A,"last":B} or {"all":true}: quarantined and set-aside rows go
  // back to the queue (seatlockctl events requeue).
  nlohmann::json requeue(const nlohmann::json& args) {
    std::uint64_t first = 0, last = 0;
    if (args.value("all", false)) {
      last = std::numeric_limits<std::int64_t>::max();
    } else {
      auto seq = [&](const char* name) {
        if (!args.contains(name) || !args[name].is_number_unsigned() || args[name] == 0)
          throw ControlError(std::string("delivery.requeue: expected \"") + name +
                             "\" as a seq (a positive integer) or \"all\": true");
        return args[name].get<std::uint64_t>();
      };
      first = seq("first");
      last = seq("last");
      if (first > last) throw ControlError("delivery.requeue: first is after last");
      last = std::min<std::uint64_t>(last, std::numeric_limits<std::int64_t>::max());
    }
    std::size_t n = spool_->requeue(first, last);
    if (n) {
      log_info("delivery: " + std::to_string(n) +
               " quarantined/set-aside events back in the queue");
      sender_->kick();
    }
    return nlohmann::json{{"requeued", n}};
  }

  void post_notice(Event e) {
    {
      std::lock_guard lk(notices_mu_);
      notices_.push_back(std::move(e));
    }
    std::uint64_t one = 1;
    if (write(notify_fd_, &one, sizeof one) < 0) log_warning("delivery: eventfd write failed");
  }

  static int on_notice(sd_event_source*, int fd, uint32_t, void* self) {
    auto* me = static_cast<DeliveryService*>(self);
    std::uint64_t n;
    while (read(fd, &n, sizeof n) > 0) {
    }
    std::deque<Event> todo;
    {
      std::lock_guard lk(me->notices_mu_);
      todo.swap(me->notices_);
    }
    for (auto& e : todo) {
      try {
        me->ctx_.reporter.report(std::move(e));
      } catch (const std::exception& ex) {
        log_error(std::string("delivery: cannot record event: ") + ex.what());
      }
    }
    return 0;
  }

  void start_sender() {
    started_ = true;
    sender_->start();
  }

  void arm_heartbeat() {
    (void)heartbeat_.arm_in(static_cast<std::uint64_t>(heartbeat_ms_) * 1000);  // failure logged
  }

  void on_heartbeat() {
    try {
      Event e = make_event(EventKind::AgentHeartbeat, Outcome::Reported);
      nlohmann::json st = status();
      e.details = {{"spool", st["spool"]}, {"delivery", st.value("state", "")}};
      ctx_.reporter.report(std::move(e));
    } catch (const std::exception& ex) {
      log_error(std::string("heartbeat not recorded: ") + ex.what());
    }
    arm_heartbeat();
  }

  DaemonContext& ctx_;
  Spool* spool_;
  std::unique_ptr<Sender> sender_;
  OneShotTimer heartbeat_;
  OneShotTimer start_;  // the sender's start, from the loop (after READY=1)
  bool started_ = false;
  int notify_fd_ = -1;
  EventSource notify_src_;
  std::int64_t heartbeat_ms_ = 300'000;
  std::mutex notices_mu_;
  std::deque<Event> notices_;
};

}  // namespace

std::unique_ptr<Service> make_delivery_service(DaemonContext& ctx) {
  return std::make_unique<DeliveryService>(ctx);
}

}  // namespace seatlock
