#include "daemon/fleet/fleet_service.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "core/fleet/verify.hpp"
#include "daemon/fleet/fleet_store.hpp"
#include "os/base/log.hpp"
#include "os/base/policy_files.hpp"
#include "os/fleet/policy_poll_client.hpp"

namespace seatlock {

namespace {

using nlohmann::json;

constexpr std::int64_t kUnreadableRetryMs = 30'000;  // a document without a version

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
      : ctx_(ctx), policy_(policy), store_(ctx.options.state_dir) {
    notify_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (notify_fd_ < 0) throw std::runtime_error("fleet: eventfd failed");
    sd_event_add_io(ctx.loop, &notify_src_, notify_fd_, EPOLLIN, on_notice, this);
    restore();
    client_ = std::make_unique<PolicyPollClient>([this](std::string doc) {
      {
        std::lock_guard lk(mu_);
        received_.push_back(std::move(doc));
      }
      std::uint64_t one = 1;
      if (write(notify_fd_, &one, sizeof one) < 0) log_warning("fleet: eventfd write failed");
    });
  }

  ~FleetService() override {
    stop();
    client_.reset();
    sd_event_source_unref(notify_src_);
    sd_event_source_unref(expiry_);
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
    client_->configure(std::move(cfg), cursor_);
    if (!start_notice_.is_null()) {  // what restore() found, once the event log is running
      json n = std::move(start_notice_);
      start_notice_ = nullptr;
      if (n["kind"] == "policy.fleet_expired")
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
    if (f.version)
      j["in_force"] = {{"version", f.version}, {"expires", format_rfc3339_ms(f.expires)}};
    if (expired_version_) j["expired"] = {{"version", expired_version_}};
    if (!last_refusal_.is_null()) j["last_refusal"] = last_refusal_;
    return j;
  }

  void stop() override {
    if (client_) client_->stop();
    if (expiry_) sd_event_source_set_enabled(expiry_, SD_EVENT_OFF);
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
    try {
      PolicyLoadResult local =
          load_policy(read_policy_dir(ctx_.options.policy_dir), load_options());
      if (!local.policy) return;  // PolicyManager falls back to the cached last good policy
      trust.fleet_keys = local.policy->report.fleet_keys;
    } catch (const std::exception&) {
      return;
    }
    trust.seat_id = ctx_.reporter.seat().seat_id;
    trust.highest_seen = stored ? stored - 1 : 0;  // the stored one itself is not a replay
    trust.now = now_millis();
    fleet::BundleVerdict v = fleet::verify_bundle(doc, trust);
    if (v.ok()) {
      policy_.set_fleet(in_force(*v.bundle));
      log_info("fleet bundle " + std::to_string(stored) + " restored from " + store_.dir());
    } else if (v.refusal == fleet::Refusal::expired) {
      expired_version_ = stored;
      json j = json::parse(doc);
      start_notice_ = {{"kind", "policy.fleet_expired"},
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
      refuse(claimed_version(doc), "local_policy", {e.what()});
      return;
    }
    fleet::BundleVerdict v = fleet::accept_bundle(doc, trust, local, load_options());
    const std::uint64_t version = v.bundle ? v.bundle->version : claimed_version(doc);
    if (!v.ok()) {
      std::vector<std::string> errors;
      for (const auto& e : v.errors) errors.push_back(e.text());
      if (errors.empty()) errors.push_back(v.reason);
      refuse(version, fleet::to_string(v.refusal), errors);
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
    expired_version_ = 0;
    cursor_ = std::max(cursor_, version);
    client_->resume(cursor_);
    arm_expiry();
  }

  // policy.rejected with the refusal; the policy in force stays.
  void refuse(std::uint64_t version, const std::string& refusal,
              const std::vector<std::string>& errors) {
    policy_.report_rejected(errors, "fleet bundle " + std::to_string(version),
                            {{"fleet", {{"version", version}, {"refusal", refusal}}}});
    note_refusal(version, refusal);
  }

  // Polls continue above a refused version so the collector does not hand the same document
  // straight back; the highest *applied* version (what rollback is judged by) is unchanged.
  void note_refusal(std::uint64_t version, const std::string& refusal) {
    last_refusal_ = {
        {"version", version}, {"refusal", refusal}, {"at", format_rfc3339_ms(now_millis())}};
    if (version == 0) {
      client_->resume(cursor_, kUnreadableRetryMs);
      return;
    }
    cursor_ = std::max(cursor_, version);
    client_->resume(cursor_);
  }

  void report_expired(std::uint64_t version, const std::string& expires, const std::string& when) {
    Event e;
    e.kind = "policy.fleet_expired";
    e.severity = "medium";
    e.outcome = "reported";
    e.details = {{"version", version},
                 {"expires", expires},
                 {"when", when},
                 {"in_force", "shipped default and local files, without fleet files"}};
    log_warning("fleet bundle " + std::to_string(version) + " expired at " + expires +
                "; back to the shipped default and local files until a new bundle arrives");
    ctx_.reporter.report(std::move(e));
  }

  // A timer at the expiry of the bundle in force (wall clock: expiry is a date).
  void arm_expiry() {
    const FleetInForce& f = policy_.fleet();
    if (!f.version) {
      if (expiry_) sd_event_source_set_enabled(expiry_, SD_EVENT_OFF);
      return;
    }
    const std::uint64_t at = static_cast<std::uint64_t>(std::max<UnixMillis>(f.expires, 0)) * 1000;
    if (!expiry_) {
      sd_event_add_time(ctx_.loop, &expiry_, CLOCK_REALTIME, at, 100'000, on_expiry, this);
    } else {
      sd_event_source_set_time(expiry_, at);
    }
    sd_event_source_set_enabled(expiry_, SD_EVENT_ONESHOT);
  }

  // The bundle in force expired: its files leave the merge, so the seat is never left more open
  // than the shipped default by a bundle nobody renewed. The poll goes on for a fresh one.
  static int on_expiry(sd_event_source*, uint64_t, void* self) {
    auto* me = static_cast<FleetService*>(self);
    const FleetInForce f = me->policy_.fleet();
    if (!f.version) return 0;
    if (f.expires > now_millis()) {  // the clock was set back: wait again
      me->arm_expiry();
      return 0;
    }
    me->expired_version_ = f.version;
    me->report_expired(f.version, format_rfc3339_ms(f.expires), "in force");
    me->policy_.set_fleet({});
    if (!me->policy_.reload("fleet bundle " + std::to_string(f.version) + " expired"))
      log_error(
          "fleet bundle expired but the local policy directory is rejected: the last good "
          "policy stays in force");
    return 0;
  }

  DaemonContext& ctx_;
  PolicyManager& policy_;
  FleetStore store_;
  std::unique_ptr<PolicyPollClient> client_;
  int notify_fd_ = -1;
  sd_event_source* notify_src_ = nullptr;
  sd_event_source* expiry_ = nullptr;
  std::mutex mu_;
  std::deque<std::string> received_;

  // Loop thread only.
  std::vector<std::string> pins_;
  std::uint64_t highest_ = 0;  // highest version applied (persisted)
  std::uint64_t cursor_ = 0;   // the poll's `after`: highest applied or refused
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
