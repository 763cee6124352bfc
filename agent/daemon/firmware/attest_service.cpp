// seatlockd's remote attestation (firmware.attestation): a worker thread runs the blocking
// rounds (TPM + collector, os/tpm/remote_round) at start, every attestation.interval and on
// `firmware.tpm_attest`; the loop thread records what came back (the verdict, or
// `firmware.unattested` once per distinct reason). HTTP is os/delivery's client, with the
// collector URL, CA and client identity of the event sender (report.*).
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/attest/round_report.hpp"
#include "core/attest/snapshot_digest.hpp"
#include "core/attest/unattested.hpp"
#include "daemon/service.hpp"
#include "os/base/event_loop.hpp"
#include "os/base/log.hpp"
#include "os/delivery/http_post.hpp"
#include "os/firmware/sysfs_reader.hpp"
#include "os/tpm/remote_round.hpp"

namespace seatlock {
namespace {

using nlohmann::json;

struct RoundConfig {
  tpm::TpmConfig tpm;
  std::string collector;
  TlsSettings tls;
  std::string sysfs_root;
};

tpm::CollectorReply reply_of(const HttpResult& r) {
  return {r.status, r.body, r.error};
}

class AttestService : public Service {
 public:
  explicit AttestService(DaemonContext& ctx)
      : ctx_(ctx),
        timer_(ctx.loop, CLOCK_MONOTONIC, 1'000'000, "attestation: round interval",
               [this](std::uint64_t) { kick(); }) {
    done_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (done_fd_ < 0) throw std::runtime_error("attestation: eventfd failed");
    try {
      done_src_ =
          add_io_source(ctx.loop, done_fd_, EPOLLIN, on_done, this, "attestation: rounds done");
    } catch (...) {
      close(done_fd_);
      throw;
    }
    ctx.control.add("firmware.tpm_status", [this](const json&) { return status(); });
    ctx.control.add("firmware.tpm_attest", [this](const json&) {
      if (!enabled_) throw ControlError("firmware.attestation is not enabled by the policy");
      std::lock_guard lk(mu_);
      // A round already under way started before this request: the answer is the next one.
      std::uint64_t requested = rounds_done_ + (busy_ ? 2 : 1);
      kicked_ = true;
      cv_.notify_all();
      return json{{"requested_round", requested}};
    });
    worker_ = std::thread([this] { work(); });
  }

  ~AttestService() override {
    stop();
    done_src_.reset();
    if (done_fd_ >= 0) close(done_fd_);
  }

  std::string name() const override { return "attestation"; }

  void check(const Policy& p) override {
    if (p.firmware.attestation.enabled && p.report.collector.empty())
      throw std::runtime_error(
          "firmware.attestation: needs report.collector (the collector verifies the quotes)");
  }

  void apply(const Policy& p) override {
    const auto& a = p.firmware.attestation;
    enabled_ = a.enabled;
    interval_ms_ = a.interval_ms;
    tcti_ = a.tcti;
    if (!enabled_) {
      timer_.disarm();
      return;
    }
    RoundConfig cfg;
    cfg.tpm.tcti = a.tcti;
    cfg.tpm.state_dir = ctx_.options.state_dir;
    cfg.sysfs_root = ctx_.options.sysfs_root;
    cfg.tpm.event_log_path = cfg.sysfs_root + "/kernel/security/tpm0/binary_bios_measurements";
    cfg.collector = p.report.collector;
    while (!cfg.collector.empty() && cfg.collector.back() == '/') cfg.collector.pop_back();
    cfg.tls.ca_file = p.report.ca_file;
    cfg.tls.cert_file = p.report.cert_file;
    cfg.tls.key_file = p.report.key_file;
    if (!p.report.token_file.empty()) cfg.tls.token = read_token(p.report.token_file);
    std::lock_guard lk(mu_);
    if (rounds_done_ == 0) state_ = "attesting";
    cfg_ = std::move(cfg);
    // Attest now (reload); at start-up from the loop, so after READY=1: a round is TPM and
    // collector work, not enforcement (docs/boot.md).
    if (!started_ && (timer_.armed() || timer_.arm_in(0) == 0)) return;
    kicked_ = true;
    cv_.notify_all();
  }

  json status() const override {
    if (!enabled_)
      return {{"state", "off"},
              {"summary", "no TPM attestation: firmware evidence is self-reported only"}};
    std::lock_guard lk(mu_);
    json s = {{"state", state_}, {"tcti", tcti_}, {"rounds", rounds_done_}, {"busy", busy_}};
    if (!last_result_.empty()) {
      s["result"] = last_result_;
      s["summary"] = "collector verdict " + last_result_;
    }
    if (!last_code_.empty()) {
      s["unattested"] = {{"code", last_code_}, {"reason", last_reason_}};
      s["summary"] = last_code_ + ": " + last_reason_;
    }
    if (last_at_) s["attested_at"] = format_rfc3339_ms(last_at_);
    if (!last_verdict_.is_null()) s["verdict"] = last_verdict_;
    return s;
  }

  void stop() override {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      stopping_ = true;
      abort_ = true;
      cv_.notify_all();
    }
    if (worker_.joinable()) worker_.join();
    timer_.disarm();
  }

 private:
  static std::string read_token(const std::string& path) {
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) throw std::runtime_error("report.token_file: cannot read " + path);
    return token;
  }

  // Worker thread: one round per kick.
  void work() {
    for (;;) {
      RoundConfig cfg;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || kicked_; });
        if (stopping_) return;
        kicked_ = false;
        cfg = cfg_;
        busy_ = true;
      }
      tpm::RoundOutcome out = run_round(cfg);
      {
        std::lock_guard lk(mu_);
        busy_ = false;
        done_.push_back(std::move(out));
      }
      std::uint64_t one = 1;
      if (write(done_fd_, &one, sizeof one) < 0) log_warning("attestation: eventfd write failed");
    }
  }

  tpm::RoundOutcome run_round(const RoundConfig& cfg) {
    const std::vector<std::string> headers = {"Content-Type: application/json"};
    tpm::CollectorTransport http;
    http.post = [&](const std::string& path, const std::string& body) {
      return reply_of(ctx_.http.post(cfg.collector + path, body, headers, cfg.tls, &abort_, 30));
    };
    http.get = [&](const std::string& path) {
      return reply_of(ctx_.http.get(cfg.collector + path, headers, cfg.tls, &abort_, 30));
    };
    json snapshot;
    try {
      snapshot = attest::snapshot_json(firmware::read_snapshot(cfg.sysfs_root));
    } catch (const std::exception& e) {
      return failed_round("snapshot", "reading the firmware snapshot", e);
    }
    // attest_round reports its known failures (TPM, collector) in the outcome; anything it
    // throws is an unexpected failure of the round itself, not of the snapshot.
    try {
      return tpm::attest_round(cfg.tpm, cfg.collector, http, snapshot);
    } catch (const std::exception& e) {
      return failed_round("round", "the attestation round with " + cfg.collector, e);
    }
  }

  static tpm::RoundOutcome failed_round(const std::string& code, const std::string& what,
                                        const std::exception& e) {
    tpm::RoundOutcome out;
    out.code = code;
    out.reason = what + ": " + e.what();
    return out;
  }

  // Loop thread: record what the rounds found.
  static int on_done(sd_event_source*, int fd, uint32_t, void* self) {
    auto* me = static_cast<AttestService*>(self);
    std::uint64_t n;
    while (read(fd, &n, sizeof n) > 0) {
    }
    std::vector<tpm::RoundOutcome> done;
    {
      std::lock_guard lk(me->mu_);
      done.swap(me->done_);
    }
    for (auto& out : done) me->record(out);
    me->arm_timer();
    return 0;
  }

  void record(const tpm::RoundOutcome& out) {
    try {
      if (out.attested) {
        gate_.attested();
        ctx_.reporter.report(attest::verdict_event(out.verdict, tcti_));
        log_info("attestation: collector verdict " + out.verdict.value("result", "?") +
                 (out.enrolled ? " (AK enrolled this round)" : ""));
      } else {
        if (gate_.should_report(out.code, out.reason))
          ctx_.reporter.report(attest::unattested_event(out.code, out.reason, tcti_));
        log_warning("attestation: unattested (" + out.code + "): " + out.reason);
      }
    } catch (const std::exception& e) {
      log_error(std::string("attestation: cannot record the result: ") + e.what());
    }
    std::lock_guard lk(mu_);
    ++rounds_done_;
    last_at_ = now_millis();
    state_ = out.attested ? "attested" : "unattested";
    last_result_ = out.attested ? out.verdict.value("result", "unknown") : "";
    last_code_ = out.code;
    last_reason_ = out.reason;
    last_verdict_ = out.attested ? out.verdict : json();
  }

  void arm_timer() {
    if (!enabled_ || stopping_) return;
    (void)timer_.arm_in(static_cast<std::uint64_t>(interval_ms_) * 1000);  // failure is logged
  }

  void kick() {
    started_ = true;
    std::lock_guard lk(mu_);
    kicked_ = true;
    cv_.notify_all();
  }

  DaemonContext& ctx_;
  // Loop-thread state.
  bool enabled_ = false;
  bool started_ = false;  // the first round was kicked (from the loop)
  std::int64_t interval_ms_ = 0;
  std::string tcti_;
  attest::UnattestedGate gate_;
  OneShotTimer timer_;
  EventSource done_src_;
  int done_fd_ = -1;
  // Shared with the worker, under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  RoundConfig cfg_;
  bool kicked_ = false, stopping_ = false, busy_ = false;
  std::atomic<bool> abort_{false};
  std::vector<tpm::RoundOutcome> done_;
  std::uint64_t rounds_done_ = 0;
  std::string state_ = "waiting-for-policy", last_result_, last_code_, last_reason_;
  json last_verdict_;
  UnixMillis last_at_ = 0;
  std::thread worker_;
};

}  // namespace

std::unique_ptr<Service> make_attest_service(DaemonContext& ctx) {
  return std::make_unique<AttestService>(ctx);
}

}  // namespace seatlock
