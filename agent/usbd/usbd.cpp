#include "usbd/usbd.hpp"

#include <sys/epoll.h>

#include <algorithm>

#include "core/event/kinds.hpp"
#include "core/usb/usb_classes.hpp"
#include "os/base/clock.hpp"
#include "os/base/log.hpp"
#include "usbd/channel_wire.hpp"
#include "usbd/policy_source.hpp"

namespace seatlock {
using nlohmann::json;

Usbd::Usbd(EpollLoop& loop, UsbdOptions options)
    : loop_(loop),
      opt_(std::move(options)),
      queue_(opt_.event_queue_max),
      // No session lookup here (it needs sd-login): seatlockd names the user when it records.
      reporter_(queue_, local_seat_identity(opt_.seat_id), nullptr),
      enforcer_({opt_.sysfs_root, opt_.dev_root, opt_.udev_rules_dir}, reporter_),
      expiry_(loop, CLOCK_REALTIME, [this] { on_expiry(); }),
      flush_(loop, CLOCK_MONOTONIC, [this] { arm_flush(); }) {
  // Listen before the start-up sweep so nothing plugged in between is missed.
  monitor_ = std::make_unique<UeventMonitor>();
  loop_.add(monitor_->fd(), EPOLLIN, [this](std::uint32_t) { on_uevents(); });
  StartupPolicy start = load_startup_policy(opt_.state_dir, opt_.policy_dir);
  log_info("usbd: enforcing the " + start.source + " policy " + start.policy.sha256);
  policy_source_ = start.source;
  apply(start.policy, false);
  channel_ = std::make_unique<ChannelServer>(
      loop_, opt_.socket, [this](const json& r) { return on_request(r); },
      [this] { on_connect(); });
}

void Usbd::check(const Policy& policy) {
  if (auto problems = check_allow_classes(policy.usb.allow_classes); !problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw std::runtime_error(all);
  }
}

Policy Usbd::accept(const json& request) {
  std::string error;
  const json& doc = request.contains("policy") ? request["policy"] : json();
  std::optional<Policy> p = policy_from_document(doc.dump(), error);
  if (!p) throw std::runtime_error("policy refused: " + error);
  check(*p);
  return std::move(*p);
}

void Usbd::apply(const Policy& policy, bool handed) {
  check(policy);
  if (handed) {
    save_handed_policy(opt_.state_dir, policy);  // before it is in force: a restart agrees
    policy_source_ = "handed";
  }
  if (opt_.seat_id.empty()) reporter_.set_seat(local_seat_identity(policy.report.seat_id));
  reporter_.set_policy_hash(policy.sha256);
  policy_sha256_ = policy.sha256;
  enforcer_.apply(policy.usb, now_millis());
  arm_expiry();
  arm_flush();
}

void Usbd::reload() {
  StartupPolicy p = load_startup_policy(opt_.state_dir, opt_.policy_dir);
  log_info("usbd: reload: enforcing the " + p.source + " policy " + p.policy.sha256);
  policy_source_ = p.source;
  apply(p.policy, false);
}

void Usbd::stop() {
  loop_.remove(monitor_->fd());
  expiry_.disarm();
  enforcer_.flush_reports(UsbEnforcer::Clock::time_point::max());
  deliver_events();
}

void Usbd::on_uevents() {
  for (;;) {
    const auto received = UsbEnforcer::Clock::now();  // the uevent has reached usbd
    auto ev = monitor_->receive();
    if (!ev) break;
    try {
      enforcer_.handle(*ev, now_millis(), received);
    } catch (const std::exception& e) {
      log_error("usb: " + ev->action + " " + ev->syspath + ": " + e.what());
    }
  }
  if (monitor_->take_overflow()) {  // events were lost: trust sysfs, not what we learned
    try {
      enforcer_.rescan(now_millis());
    } catch (const std::exception& e) {
      log_error(std::string("usb: re-reading devices after lost uevents: ") + e.what());
    }
  }
  arm_flush();
}

void Usbd::on_expiry() {
  enforcer_.expire(now_millis());
  arm_expiry();
  arm_flush();
}

void Usbd::arm_expiry() {
  auto next = enforcer_.next_expiry(now_millis());
  if (!next) {
    expiry_.disarm();
    return;
  }
  expiry_.arm_at(static_cast<std::uint64_t>(*next) * 1000);
}

// Emits due reports, hands them to seatlockd and re-arms for the next one.
void Usbd::arm_flush() {
  auto next = enforcer_.flush_reports();
  deliver_events();
  if (!next) return;
  const auto delta =
      std::chrono::duration_cast<std::chrono::microseconds>(*next - UsbEnforcer::Clock::now());
  flush_.arm_in(static_cast<std::uint64_t>(std::max<std::int64_t>(delta.count(), 0)));
}

void Usbd::deliver_events() {
  if (!channel_ || !channel_->connected()) return;
  if (const std::uint64_t dropped = queue_.dropped(); dropped > 0) {
    const std::uint64_t violations = queue_.dropped_violations();
    Event e = reporter_.prepare(make_event(EventKind::UsbEventsDropped,
                                           violations ? Severity::High : Severity::Medium,
                                           Outcome::Dropped));
    e.details = {{"events", dropped}, {"violations", violations}};
    if (!channel_->send({{"event", event_to_wire(e)}})) return;
    queue_.reset_dropped();
  }
  while (const Event* e = queue_.front()) {
    if (!channel_->send({{"event", event_to_wire(*e)}})) return;  // kept for the next connection
    queue_.pop();
  }
}

void Usbd::on_connect() {
  log_info("usbd: seatlockd connected");
  deliver_events();
}

json Usbd::on_request(const json& request) {
  const std::string op = request.value("op", "");
  if (op == "policy") {
    const Policy p = accept(request);
    apply(p, true);
    return {{"sha256", p.sha256}};
  }
  if (op == "check") return {{"sha256", accept(request).sha256}};  // loaded, not applied
  if (op == "flush") {  // seatlockd stops: emit what is being gathered now
    enforcer_.flush_reports(UsbEnforcer::Clock::time_point::max());
    deliver_events();
    return json::object();
  }
  if (op == "usb.list") return enforcer_.list();
  if (op == "usb.stats") return enforcer_.latency().summary();
  if (op == "status") return status();
  throw std::runtime_error("unknown op '" + op + "'");
}

json Usbd::status() const {
  json s = enforcer_.status();
  s["policy"] = {{"source", policy_source_}, {"sha256", policy_sha256_}};
  s["queued_events"] = queue_.size();
  s["dropped_events"] = queue_.dropped();
  return s;
}

}  // namespace seatlock
