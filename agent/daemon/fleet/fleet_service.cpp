#include "daemon/fleet/fleet_service.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "core/event/kinds.hpp"
#include "core/fleet/verify.hpp"
#include "core/util/digest.hpp"
#include "daemon/fleet/fleet_store.hpp"
#include "os/base/event_loop.hpp"
#include "os/base/log.hpp"
#include "os/base/policy_files.hpp"
#include "os/fleet/policy_poll_client.hpp"

namespace seatlock {

namespace {

using nlohmann::json;

constexpr std::int64_t kUnreadableRetryMs = 30'000;  // a document without a version
// After a refusal that does not move the poll cursor (below), the collector hands the same
// document straight back: ask again after 1 s, doubling up to a minute.
constexpr std::int64_t kUnvouchedRetryMaxMs = 60'000;

// Refusals decided only once the signature held and the bundle named this seat: the version is
// the fleet's own word, so the poll may continue above it. Any other refusal (malformed,
// untrusted_key, bad_signature, wrong_seat, an unreadable local policy directory) says nothing
// the seat can trust about versions: moving the cursor on it would let anyone on the path make
// the seat skip real bundles by sending a document that claims a high version (or another
// seat's bundle of the current one).
bool vouches_for_version(const std::string& refusal) {
  return refusal == "replay" || refusal == "rollback" || refusal == "expired" ||
         refusal == "invalid_policy" || refusal == "service_check";
}

PolicyLoadOptions load_options() {
  PolicyLoadOptions lo;
  lo.now = now_millis();
  lo.expired_is_error = false;  // as PolicyManager: a stale exception is left out, not fatal
  return lo;
}

// The version a document claims, before anything about it is trusted: only used to not fetch
// a refused bundle again (the poll cursor), never to decide what applies. 0 = none readable.
std::uint64_t claimed_version(const std::string& doc) {
  json j = json::parse(doc, nullptr, false);
  if (!j.is_object() || !j.contains("bundle") || !j["bundle"].is_object()) return 0;
  const json& v = j["bundle"]["version"];
  return v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
}

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  return token;  // delivery's check() already refuses an unreadable or empty token file
}

FleetInForce in_force(const fleet::FleetBundle& b) {
  return FleetInForce{b.version, b.expires, b.files};
}

class FleetService : public Service {
 public:
  FleetService(DaemonContext& ctx, PolicyManager& policy)
      : ctx_(ctx),
        policy_(policy),
        store_(ctx.options.state_dir),
        expiry_(ctx.loop, CLOCK_REALTIME, 100'000, "fleet: bundle expiry",
                [this](std::uint64_t) { on_expiry(); }),
        start_(ctx.loop, CLOCK_MONOTONIC, 1000, "fleet: start the long-poll",
               [this](std::uint64_t) { start_poll(); }) {
    notify_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (notify_fd_ < 0) throw std::runtime_error("fleet: eventfd failed");
    try {
      notify_src_ =
          add_io_source(ctx.loop, notify_fd_, EPOLLIN, on_notice, this, "fleet: bundles received");
    } catch (...) {
      close(notify_fd_);
      throw;
    }
    restore();
    client_ = std::make_unique<PolicyPollClient>(
        [this](std::string doc) {
          {
            std::lock_guard lk(mu_);
            received_.push_back(std::move(doc));
          }
          std::uint64_t one = 1;
          if (write(notify_fd_, &one, sizeof one) < 0) log_warning("fleet: eventfd write failed");
        },
        ctx.http);
  }

  ~FleetService() override {
    stop();
    client_.reset();
    notify_src_.reset();
    if (notify_fd_ >= 0) close(notify_fd_);
  }

  std::string name() const override { return "fleet"; }

  void apply(const Policy& p) override {
    pins_ = p.report.fleet_keys;
    PollConfig cfg;
    if (!p.report.collector.empty() && !pins_.empty()) {
      cfg.collector = p.report.collector;
      while (!cfg.collector.empty() && cfg.collector.back() == '/') cfg.collector.pop_back();
    }
    idle_reason_ = p.report.collector.empty() ? "no report.collector"
                   : pins_.empty()            ? "no fleet key pinned (report.fleet_keys)"
                                              : "";
    cfg.tls.ca_file = p.report.ca_file;
    cfg.tls.cert_file = p.report.cert_file;
    cfg.tls.key_file = p.report.key_file;
    if (!p.report.token_file.empty()) cfg.tls.token = read_token(p.report.token_file);
    // At start-up the long-poll begins from the loop, so after READY=1 (docs/boot.md).
    pending_ = std::move(cfg);
    if (started_ || (!start_.armed() && start_.arm_in(0) < 0)) start_poll();
    if (!start_notice_.is_null()) {  // what restore() found, once the event log is running
      json n = std::move(start_notice_);
      start_notice_ = nullptr;
      if (n["kind"] == to_string(EventKind::PolicyFleetExpired))
        report_expired(n["version"].get<std::uint64_t>(), n["expires"].get<std::string>(),
                       "at start");
      else
        policy_.report_rejected({n["reason"].get<std::string>()}, "stored fleet bundle",
                                {{"fleet", n["fleet"]}});
    }
    arm_expiry();
  }

  json status() const override {
    json j = client_->status();
    if (!idle_reason_.empty()) j["state"] = "idle: " + idle_reason_;
    j["pinned_keys"] = pins_.size();
    j["highest_applied"] = highest_;
    const FleetInForce& f = policy_.fleet();
    if (f.version) {
      j["in_force"] = {{"version", f.version}, {"expires", format_rfc3339_ms(f.expires)}};
      if (applied_at_) j["in_force"]["applied_at"] = format_rfc3339_ms(applied_at_);
    }
    if (expired_version_) j["expired"] = {{"version", expired_version_}};
    if (!last_refusal_.is_null()) j["last_refusal"] = last_refusal_;
    return j;
  }

  void stop() override {
    start_.disarm();
    if (client_) client_->stop();
    expiry_.disarm();
  }

 private:
  // Start: the stored bundle joins the first load when it still verifies against the local
  // policy's pins and seat id and has not expired. Its events wait for apply() (after
  // agent.started).
  void restore() {
    const std::string doc = store_.bundle();
    const std::uint64_t stored = claimed_version(doc);
    highest_ = store_.highest_version(stored);
    cursor_ = highest_;
    if (doc.empty()) return;
    fleet::SeatTrust trust;
    // The directory as seatlockd loaded it at start (not loaded again before READY=1).
    const Policy* local = policy_.local_at_start();
    if (!local) return;  // PolicyManager falls back to the cached last good policy
    trust.fleet_keys = local->report.fleet_keys;
    trust.seat_id = ctx_.reporter.seat().seat_id;
    trust.highest_seen = stored ? stored - 1 : 0;  // the stored one itself is not a replay
    trust.now = now_millis();
    fleet::BundleVerdict v = fleet::verify_bundle(doc, trust);
    if (v.ok()) {
      policy_.set_fleet(in_force(*v.bundle));
      applied_at_ = store_.saved_at();
      log_info("fleet bundle " + std::to_string(stored) + " restored from " + store_.dir());
    } else if (v.refusal == fleet::Refusal::expired) {
      expired_version_ = stored;
      json j = json::parse(doc);
      start_notice_ = {{"kind", to_string(EventKind::PolicyFleetExpired)},
                       {"version", stored},
                       {"expires", j["bundle"].value("expires", "")}};
    } else {
      start_notice_ = {{"reason", v.reason},
                       {"fleet", {{"version", stored}, {"refusal", fleet::to_string(v.refusal)}}}};
    }
  }

  static int on_notice(sd_event_source*, int fd, uint32_t, void* self) {
    auto* me = static_cast<FleetService*>(self);
    std::uint64_t n;
    while (read(fd, &n, sizeof n) > 0) {
    }
    std::deque<std::string> todo;
    {
      std::lock_guard lk(me->mu_);
      todo.swap(me->received_);
    }
    for (auto& doc : todo) {
      try {
        me->handle(doc);
      } catch (const std::exception& e) {
        log_error(std::string("fleet: bundle not handled: ") + e.what());
        me->client_->resume(me->cursor_, kUnreadableRetryMs);
      }
    }
    return 0;
  }

  // On the loop thread: verify, validate with the local files, apply, persist, ack.
  void handle(const std::string& doc) {
    fleet::SeatTrust trust{pins_, ctx_.reporter.seat().seat_id, highest_, now_millis()};
    std::vector<PolicyFile> local;
    try {
      local = read_policy_dir(ctx_.options.policy_dir);
    } catch (const std::exception& e) {
      refuse(doc, claimed_version(doc), "local_policy", {e.what()});
      return;
    }
    fleet::BundleVerdict v = fleet::accept_bundle(doc, trust, local, load_options());
    const std::uint64_t version = v.bundle ? v.bundle->version : claimed_version(doc);
    if (!v.ok()) {
      std::vector<std::string> errors;
      for (const auto& e : v.errors) errors.push_back(e.text());
      if (errors.empty()) errors.push_back(v.reason);
      refuse(doc, version, fleet::to_string(v.refusal), errors);
      return;
    }
    std::vector<std::string> warnings;
    for (const auto& w : v.warnings) warnings.push_back(w.text());
    const std::string reason = "fleet bundle " + std::to_string(version);
    if (!policy_.apply_fleet(in_force(*v.bundle), std::move(*v.policy), warnings, reason,
                             {{"fleet", {{"version", version}, {"refusal", "service_check"}}}})) {
      note_refusal(version, "service_check");
      return;
    }
    try {
      store_.save(doc, version);
    } catch (const std::exception& e) {
      // In force now, but a restart would go back to the previous bundle (and take this one
      // again from the collector): say so loudly, do not undo a good policy.
      log_error(std::string("fleet bundle ") + std::to_string(version) +
                " applied but not persisted: " + e.what());
    }
    highest_ = version;
    applied_at_ = now_millis();
    expired_version_ = 0;
    unvouched_.clear();
    unvouched_attempt_ = 0;
    cursor_ = std::max(cursor_, version);
    client_->resume(cursor_);
    arm_expiry();
  }

  // policy.rejected with the refusal; the policy in force stays. A document refused without
  // moving the cursor comes back until the collector has something else: the same document
  // refused the same way again is counted in status (last_refusal.repeats), not reported again.
  void refuse(const std::string& doc, std::uint64_t version, const std::string& refusal,
              const std::vector<std::string>& errors) {
    if (!vouches_for_version(refusal)) {
      std::string key = refusal + " " + sha256_hex(doc);
      if (key == unvouched_) {
        last_refusal_["repeats"] = last_refusal_.value("repeats", 0) + 1;
        client_->resume(cursor_, next_unvouched_retry_ms());
        return;
      }
      unvouched_ = std::move(key);
      unvouched_attempt_ = 0;  // a new document: ask again soon
    }
    policy_.report_rejected(errors, "fleet bundle " + std::to_string(version),
                            {{"fleet", {{"version", version}, {"refusal", refusal}}}});
    note_refusal(version, refusal);
  }

  // After a refusal the fleet vouches for, polls continue above its version so the collector
  // does not hand the same document straight back; the highest *applied* version (what rollback
  // is judged by) is unchanged. After any other, the cursor stays where it was.
  void note_refusal(std::uint64_t version, const std::string& refusal) {
    last_refusal_ = {
        {"version", version}, {"refusal", refusal}, {"at", format_rfc3339_ms(now_millis())}};
    if (version == 0 || !vouches_for_version(refusal)) {
      client_->resume(cursor_, next_unvouched_retry_ms());
      return;
    }
    unvouched_.clear();
    unvouched_attempt_ = 0;
    cursor_ = std::max(cursor_, version);
    client_->resume(cursor_);
  }

  std::int64_t next_unvouched_retry_ms() {
    const std::int64_t ms =
        std::min<std::int64_t>(1000LL << std::min(unvouched_attempt_, 6), kUnvouchedRetryMaxMs);
    ++unvouched_attempt_;
    return ms;
  }

  void report_expired(std::uint64_t version, const std::string& expires, const std::string& when) {
    Event e = make_event(EventKind::PolicyFleetExpired, Outcome::Reported);
    e.details = {{"version", version},
                 {"expires", expires},
                 {"when", when},
                 {"in_force", "shipped default and local files, without fleet files"}};
    log_warning("fleet bundle " + std::to_string(version) + " expired at " + expires +
                "; back to the shipped default and local files until a new bundle arrives");
    ctx_.reporter.report(std::move(e));
  }

  void start_poll() {
    started_ = true;
    if (pending_) client_->configure(std::move(*pending_), cursor_);
    pending_.reset();
  }

  // A timer at the expiry of the bundle in force (wall clock: expiry is a date).
  void arm_expiry() {
    const FleetInForce& f = policy_.fleet();
    if (!f.version) {
      expiry_.disarm();
      return;
    }
    // A failure is logged by the timer (the bundle then stays until the next apply re-arms).
    (void)expiry_.arm_at(static_cast<std::uint64_t>(std::max<UnixMillis>(f.expires, 0)) * 1000);
  }

  // The bundle in force expired: its files leave the merge, so the seat is never left more open
  // than the shipped default by a bundle nobody renewed. The poll goes on for a fresh one.
  void on_expiry() {
    const FleetInForce f = policy_.fleet();
    if (!f.version) return;
    if (f.expires > now_millis()) {  // the clock was set back: wait again
      arm_expiry();
      return;
    }
    expired_version_ = f.version;
    report_expired(f.version, format_rfc3339_ms(f.expires), "in force");
    policy_.set_fleet({});
    if (!policy_.reload("fleet bundle " + std::to_string(f.version) + " expired"))
      log_error(
          "fleet bundle expired but the local policy directory is rejected: the last good "
          "policy stays in force");
  }

  DaemonContext& ctx_;
  PolicyManager& policy_;
  FleetStore store_;
  OneShotTimer expiry_;
  OneShotTimer start_;  // the long-poll's start, from the loop (after READY=1)
  bool started_ = false;
  std::optional<PollConfig> pending_;  // for start_poll()
  std::unique_ptr<PolicyPollClient> client_;
  int notify_fd_ = -1;
  EventSource notify_src_;
  std::mutex mu_;
  std::deque<std::string> received_;

  // Loop thread only.
  std::vector<std::string> pins_;
  std::uint64_t highest_ = 0;  // highest version applied (persisted)
  std::uint64_t cursor_ = 0;   // the poll's `after`: highest applied or refused (vouched for)
  UnixMillis applied_at_ = 0;  // when the bundle in force was applied (restored: when stored)
  std::string unvouched_;      // "<refusal> <sha256>" of the last document refused unvouched
  int unvouched_attempt_ = 0;
  std::uint64_t expired_version_ = 0;
  std::string idle_reason_;
  json last_refusal_;
  json start_notice_;
};

}  // namespace

std::unique_ptr<Service> make_fleet_service(DaemonContext& ctx, PolicyManager& policy) {
  return std::make_unique<FleetService>(ctx, policy);
}

}  // namespace seatlock
