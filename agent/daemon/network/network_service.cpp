// Network lockdown service: applying the ruleset, exception expiry and the control commands.
// The watchers (denied packets, tampering, addresses/routes/links) are in network_watch.cpp.
#include "daemon/network/network_service.hpp"

#include <chrono>

#include "core/net/fallback_file.hpp"
#include "core/net/generation.hpp"
#include "core/net/set_update.hpp"
#include "os/base/log.hpp"
#include "os/net/net_state.hpp"
#include "os/net/user_directory.hpp"

namespace seatlock {

using nlohmann::json;

NetworkService::NetworkService(DaemonContext& ctx)
    : ctx_(ctx),
      // CLOCK_REALTIME: `until` is wall-clock time, and the timer must fire at it exactly.
      expiry_timer_(ctx.loop, CLOCK_REALTIME, 1000, "network: exception expiry",
                    [this](std::uint64_t) { on_expiry(); }),
      window_timer_(ctx.loop, CLOCK_MONOTONIC, 10'000, "network: denied-packet window",
                    [this](std::uint64_t) { flush_denied(); }) {
  closed_ = net::read_closed_flag(ctx.options.state_dir);
  // One libnftables context for the daemon's life: it holds the socket that owns the table.
  nft_ = std::make_unique<net::Nft>();
  start_watchers();
  ctx_.control.add("net.status", [this](const json&) { return status(); });
  ctx_.control.add("net.close", [this](const json&) { return set_closed(true); });
  ctx_.control.add("net.open", [this](const json&) { return set_closed(false); });
}

NetworkService::~NetworkService() {
  if (dns_hooks_.network_gone) dns_hooks_.network_gone();
  for (auto* s : io_sources_) sd_event_source_disable_unref(s);
}

void NetworkService::check(const Policy& policy) {
  net::SystemUserDirectory users;
  net::NetRules rules = net::rules_for_policy(policy, users, ctx_.options.network_mode_override,
                                              closed_, ctx_.options.lease_root);
  try {
    (void)net::compile_ruleset(rules, now_millis());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  checked_.emplace(policy.sha256, std::move(rules));
}

void NetworkService::apply(const Policy& policy) {
  window_ms_ = policy.network.denied_window_ms > 0 ? policy.network.denied_window_ms : 60'000;
  std::optional<std::pair<std::string, net::NetRules>> checked = std::move(checked_);
  checked_.reset();
  if (!checked || checked->first != policy.sha256) {
    net::SystemUserDirectory users;
    checked.emplace(policy.sha256,
                    net::rules_for_policy(policy, users, ctx_.options.network_mode_override,
                                          closed_, ctx_.options.lease_root));
  }
  put_in_force(std::move(checked->second), "policy");
  check_planned_addresses();
}

void NetworkService::put_in_force(net::NetRules rules, const std::string& why,
                                  const std::string& reason) {
  rules.dns_guard_port =
      dns_hooks_.wanted && dns_hooks_.wanted(rules) ? net::kDnsGuardPort : std::uint16_t(0);
  std::lock_guard nft_lock(nft_mutex_);
  const auto t0 = std::chrono::steady_clock::now();
  const UnixMillis now = now_millis();
  // Unless the tables are replaced anyway, reuse what did not change since the ruleset in force.
  const bool in_place = rules_ && !replace_tables_;
  net::CompiledRuleset compiled = in_place ? net::compile_ruleset(rules, now, *rules_, compiled_)
                                           : net::compile_ruleset(rules, now);
  if (in_place)
    if (auto update = net::set_update_transaction(compiled_, compiled, now)) {
      // The guard's sets stay as they are; its refill is what it believes they hold.
      if (rules.dns_guard_port != 0 && dns_hooks_.refill) *update += dns_hooks_.refill(rules, now);
      bool done = false;
      try {
        if (!update->empty()) nft_->run(*update);
        done = true;
      } catch (const net::NftError& e) {
        // E.g. an element the kernel no longer holds: replacing the tables is always right.
        log_info(std::string("network: in-place update refused, replacing the tables: ") +
                 e.what());
      }
      if (done)
        return in_force(std::move(rules), std::move(compiled), now, t0, why, reason, "in place");
    }
  // A replace may take anything away: live flows are checked again (docs/network.md).
  if (rules_) compiled.generation = net::next_generation(compiled_.generation);
  std::string text = net::full_transaction(rules, compiled);
  if (rules.dns_guard_port != 0 && dns_hooks_.refill) text += dns_hooks_.refill(rules, now);
  try {
    try {
      nft_->run(text);
    } catch (const net::NftError& first) {
      // A table named like ours that we do not own (made while seatlockd was down) blocks the
      // owned one: remove it and try once more. If there is none, the first error is the one
      // that explains the failure (not "delete table: No such file or directory").
      try {
        nft_->run(std::string("delete table inet ") + net::kOwnedTable);
      } catch (const net::NftError&) {
        throw first;
      }
      nft_->run(text);
    }
  } catch (const net::NftError& e) {
    last_error_ = std::string("nft: ") + e.what();
    throw std::runtime_error("cannot apply the egress ruleset (" + why + "): " + e.what());
  }
  replace_tables_ = false;
  in_force(std::move(rules), std::move(compiled), now, t0, why, reason, "replaced");
}

void NetworkService::in_force(net::NetRules given, net::CompiledRuleset compiled, UnixMillis now,
                              std::chrono::steady_clock::time_point t0, const std::string& why,
                              const std::string& reason, const char* how) {
  last_apply_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const bool had_rules = rules_.has_value(), was_closed = had_rules && compiled_.closed;
  const std::size_t was_active = compiled_.active.size();
  const std::optional<NetClosure> was_closure = compiled_.closure;
  rules_ = std::move(given);
  compiled_ = std::move(compiled);
  const net::NetRules& rules = *rules_;
  applied_at_ = now;
  last_error_.clear();
  if (dns_hooks_.applied) dns_hooks_.applied(rules, now);
  try {
    net::write_fallback_file(ctx_.options.state_dir,
                             net::render_fallback_file(rules, compiled_, now));
  } catch (const std::exception& e) {
    last_error_ = e.what();
    log_error(std::string("network: ") + e.what());
  }
  arm_expiry_timer();
  // At start the state is whatever was left (no transition to report). The closure still in
  // the policy but no longer in force ended by its `until`, whoever noticed first (the timer or
  // another re-apply).
  const bool ended = was_closure && rules.closure && rules.closure->ticket == was_closure->ticket &&
                     !compiled_.closure;
  if (had_rules && was_closed != compiled_.closed)
    report_closure_change(ended && !compiled_.closed ? "expired" : reason, was_active,
                          compiled_.closed ? std::nullopt : was_closure);
  log_info("network: ruleset applied (" + why + ", " + to_string(rules.mode) +
           (compiled_.closed ? ", closed" : "") + ", " + std::to_string(compiled_.base_elements) +
           " base + " + std::to_string(compiled_.exception_elements) + " exception elements, " +
           how + ", " + std::to_string(int(last_apply_ms_)) + " ms)");
}

void NetworkService::arm_expiry_timer() {
  if (!compiled_.next_expiry) return expiry_timer_.disarm();
  // A failure is logged by the timer (with its description).
  (void)expiry_timer_.arm_at(std::uint64_t(*compiled_.next_expiry) * 1000);
}

void NetworkService::on_expiry() {
  const UnixMillis now = now_millis();
  try {
    report_expired(now);
    const auto& c = compiled_.closure;
    const bool closure_ended = c && c->until && *c->until <= now;
    if (rules_)
      put_in_force(net::NetRules(*rules_), closure_ended ? "closure ended" : "exception expired");
  } catch (const std::exception& e) {
    log_error(std::string("network: ") + e.what());
  }
}

void NetworkService::report_expired(UnixMillis now) {
  if (!rules_) return;
  for (const auto& e : rules_->exceptions) {
    if (e.until > now || !expired_reported_.insert({e.ticket, e.until}).second) continue;
    report(EventKind::NetExceptionExpired, Severity::Info, Outcome::Expired, "network.exceptions",
           {{"ticket", e.ticket},
            {"users", e.users},
            {"groups", e.groups},
            {"uids", e.uids},
            {"until", format_rfc3339_ms(e.until)},
            {"source", e.source},
            {"closed", rules_->closed}});
  }
}

json NetworkService::set_closed(bool closed) {
  if (!rules_) throw ControlError("no network policy is in force yet");
  try {
    net::write_closed_flag(ctx_.options.state_dir, closed);
  } catch (const std::exception& e) {
    throw ControlError(e.what());
  }
  closed_ = closed;
  net::NetRules rules = *rules_;
  rules.closed = closed;
  try {
    put_in_force(std::move(rules), closed ? "net close" : "net open", "local");
  } catch (const std::exception& e) {
    throw ControlError(e.what());
  }
  return status();
}

// Who keeps the seat closed: the local switch and/or the policy's closure.
json NetworkService::closed_by() const {
  json out = json::array();
  if (rules_ && rules_->closed)
    out.push_back({{"by", "local"}, {"command", "seatlockctl net close"}});
  if (const auto& c = compiled_.closure) {
    json f = {
        {"by", c->by.empty() ? "policy" : c->by}, {"ticket", c->ticket}, {"source", c->source}};
    f["fleet"] = c->source.rfind("fleet/", 0) == 0;
    if (c->since) f["since"] = format_rfc3339_ms(*c->since);
    if (c->until) f["until"] = format_rfc3339_ms(*c->until);
    out.push_back(std::move(f));
  }
  return out;
}

void NetworkService::report_closure_change(const std::string& reason,
                                           std::size_t suspended_exceptions,
                                           const std::optional<NetClosure>& ended) {
  const bool closed = compiled_.closed;
  json d = {{"reason", reason},
            {"closed_by", closed_by()},
            {"suspended_exceptions", closed ? suspended_exceptions : 0},
            {"suspended_allow_entries", compiled_.suspended_allow},
            {"active_exceptions", compiled_.active.size()}};
  // The ticket that closed (net.closed) or whose closure ended or was removed (net.opened).
  const std::optional<NetClosure>& c = closed ? compiled_.closure : ended;
  if (c) {
    d["ticket"] = c->ticket;
    d["source"] = c->source;
    if (!c->by.empty()) d["by"] = c->by;
    if (c->until) d["until"] = format_rfc3339_ms(*c->until);
  }
  report(closed ? EventKind::NetClosed : EventKind::NetOpened,
         closed ? Severity::Medium : Severity::Info, Outcome::Applied,
         closed && !compiled_.closure ? "network.close" : "network.closed", d);
}

json NetworkService::counters() const {
  std::lock_guard nft_lock(nft_mutex_);
  json out = json::object();
  for (const char* table : {net::kOwnedTable, net::kFallbackTable}) {
    json t = json::object();
    try {
      for (const auto& item : nft_->list_json(std::string("list counters table inet ") + table)) {
        if (!item.contains("counter")) continue;
        const auto& c = item["counter"];
        t[c.value("name", "?")] = {{"packets", c.value("packets", std::uint64_t(0))},
                                   {"bytes", c.value("bytes", std::uint64_t(0))}};
      }
      out[table] = t;
    } catch (const std::exception& e) {
      out[table] = {{"error", e.what()}};
    }
  }
  return out;
}

json NetworkService::status() const {
  json j;
  if (!rules_)
    j["state"] = last_error_.empty() ? "starting" : "failed";  // nothing of ours in force
  else
    j["state"] = last_error_.empty() && watch_errors_.empty() ? "running" : "degraded";
  if (!last_error_.empty()) j["error"] = last_error_;
  if (!watch_errors_.empty()) j["watch_errors"] = watch_errors_;
  if (!rules_) return j;
  const UnixMillis now = now_millis();
  j["mode"] = to_string(rules_->mode);
  j["closed"] = compiled_.closed;  // by the local switch or the policy's closure
  j["local_closed"] = closed_;
  j["closed_by"] = closed_by();
  j["applied_at"] = format_rfc3339_ms(applied_at_);
  j["apply_ms"] = last_apply_ms_;
  j["rules"] = {{"allow_entries", rules_->allow.size()},
                {"inbound_entries", rules_->inbound.size()},
                {"inbound_set_elements", compiled_.inbound_elements},
                {"dhcp_servers", rules_->dhcp_servers},
                {"dns", rules_->dns},
                {"ntp", rules_->ntp},
                {"collector", rules_->collector.size()},
                {"exceptions_in_policy", rules_->exceptions.size()},
                {"base_set_elements", compiled_.base_elements},
                {"management_set_elements", compiled_.management_elements},
                {"suspended_allow_entries", compiled_.suspended_allow},
                {"collector_host", rules_->collector_host},
                {"exception_set_elements", compiled_.exception_elements},
                {"planned_addresses", rules_->addresses.size()}};
  json active = json::array();
  for (const auto& a : compiled_.active) {
    std::int64_t left = std::max<std::int64_t>(0, a.until - now);
    active.push_back({{"ticket", a.ticket},
                      {"users", a.users},
                      {"groups", a.groups},
                      {"uids", a.uid_count},
                      {"until", format_rfc3339_ms(a.until)},
                      {"left_ms", left},
                      {"left", format_duration(left)},
                      {"source", a.source}});
  }
  j["active_exceptions"] = active;
  if (compiled_.next_expiry) j["next_expiry"] = format_rfc3339_ms(*compiled_.next_expiry);
  j["counters"] = counters();
  j["events"] = {{"tamper", tamper_count_},
                 {"egress_denied", denied_events_},
                 {"inbound_denied", inbound_events_},
                 {"forward_denied", forward_events_}};
  j["fallback_file"] = net::fallback_file_path(ctx_.options.state_dir);
  return j;
}

void NetworkService::stop() {
  // Stop watching; the tables stay (the owned one goes with the process, the fallback stays).
  for (auto* s : io_sources_) sd_event_source_set_enabled(s, SD_EVENT_OFF);
  expiry_timer_.disarm();
  window_timer_.disarm();
  flush_denied();
}

std::unique_ptr<Service> make_network_service(DaemonContext& ctx) {
  return std::make_unique<NetworkService>(ctx);
}

}  // namespace seatlock
