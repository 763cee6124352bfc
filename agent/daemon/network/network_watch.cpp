// Network lockdown service: the watchers. Denied packets (NFLOG) are aggregated per window;
// foreign changes to seatlock's tables are reverted at once and reported; address, route and
// link changes are reported.
#include <pwd.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "core/policy/event_mode.hpp"
#include "daemon/network/network_service.hpp"
#include "os/base/log.hpp"
#include "os/events/user_lookup.hpp"
#include "os/net/dhcp_leases.hpp"

namespace seatlock {

using nlohmann::json;

namespace {

std::string host_part(const std::string& cidr) {
  return cidr.substr(0, cidr.find('/'));
}

bool is_link_local_v6(const std::string& addr) {
  return addr.size() >= 4 && (addr.compare(0, 4, "fe80") == 0 || addr.compare(0, 4, "FE80") == 0);
}

}  // namespace

void NetworkService::start_watchers() {
  auto watch = [&](int fd, const char* kind) {
    sd_event_source* src = nullptr;
    int r = sd_event_add_io(ctx_.loop, &src, fd, EPOLLIN, &NetworkService::on_io, this);
    if (r < 0)
      throw std::runtime_error(std::string("cannot watch ") + kind + ": " + std::strerror(-r));
    io_sources_.push_back(src);
    io_kind_[fd] = kind;
  };
  // A watcher that cannot start (e.g. the NFLOG group is taken) must not stop enforcement:
  // it is logged and shown in `net status`, and the rest runs.
  auto attempt = [&](const char* kind, const std::function<void()>& start) {
    try {
      start();
    } catch (const std::exception& e) {
      watch_errors_.push_back(std::string(kind) + ": " + e.what());
      log_error(std::string("network: ") + kind + " watcher not running: " + e.what());
    }
  };
  attempt("nflog", [&] {
    nflog_ = std::make_unique<net::NflogReceiver>(
        net::kLogGroup, [this](const net::LoggedPacket& p) { on_logged_packet(p); });
    watch(nflog_->fd(), "nflog");
  });
  attempt("tamper", [&] {
    tamper_ = std::make_unique<net::TamperMonitor>(
        std::set<std::string>{net::kOwnedTable, net::kFallbackTable},
        [this](const net::TableChange& c) { on_table_change(c); }, [this] { verify_tables(); });
    watch(tamper_->fd(), "tamper");
  });
  attempt("links", [&] {
    links_ = std::make_unique<net::LinkWatch>(
        net::LinkWatchHandlers{[this](const net::AddressChange& c) { on_address(c); },
                               [this](const net::RouteChange& c) { on_default_route(c); },
                               [this](const net::InterfaceAdded& c) { on_interface(c); }});
    watch(links_->fd(), "links");
  });
}

int NetworkService::on_io(sd_event_source*, int fd, std::uint32_t, void* self) {
  auto* s = static_cast<NetworkService*>(self);
  const std::string& kind = s->io_kind_[fd];
  try {
    if (kind == "nflog")
      s->nflog_->on_readable();
    else if (kind == "tamper")
      s->tamper_->on_readable();
    else if (kind == "links")
      s->links_->on_readable();
  } catch (const std::exception& e) {
    log_error("network: " + kind + ": " + e.what());
  }
  return 0;
}

void NetworkService::report(EventKind kind, Severity severity, Outcome outcome,
                            const std::string& rule, json details, std::optional<UserRef> user) {
  Event e =
      make_event(kind, severity, outcome, rules_ ? event_mode(rules_->mode) : EventMode::None);
  e.rule = rule;
  e.details = std::move(details);
  if (user) e.user = *user;
  try {
    ctx_.reporter.report(std::move(e));
  } catch (const std::exception& ex) {
    log_error(std::string("network: cannot record ") + to_string(kind) + ": " + ex.what());
  }
}

// ---- denied packets -----------------------------------------------------------------------

void NetworkService::on_logged_packet(const net::LoggedPacket& p) {
  const std::string& prefix = p.prefix;
  const bool inbound = prefix == net::kPrefixInbound || prefix == net::kPrefixInboundAudit;
  const bool forward = prefix == net::kPrefixForward || prefix == net::kPrefixForwardAudit;
  net::DeniedKey key;
  key.uid = inbound || forward ? -1 : p.uid;
  if (inbound || forward) key.saddr = p.packet.saddr;  // who tried matters there
  key.daddr = p.packet.daddr;
  key.dport = p.packet.dport;
  key.proto = p.packet.proto;
  key.reason = prefix == net::kPrefixSource ? "source-address"
               : prefix == net::kPrefixAudit || prefix == net::kPrefixInboundAudit ||
                       prefix == net::kPrefixForwardAudit
                   ? "audit"
                   : "not-allowed";
  net::DeniedAggregator& agg = inbound ? inbound_ : forward ? forward_ : denied_;
  const UnixMillis now = now_millis();
  // One timer closes the windows of all three aggregators.
  // A failure is logged by the timer and left disarmed: the next packet tries again.
  if (agg.add(key, p.packet.saddr, now))
    (void)window_timer_.arm_in_unless_armed(std::uint64_t(window_ms_) * 1000);
}

void NetworkService::flush_denied() {
  window_timer_.disarm();  // also when stop() flushes
  const bool enforce = !rules_ || rules_->mode == Mode::Enforce;
  const Outcome outcome = enforce ? Outcome::Blocked : Outcome::Reported;
  auto window_details = [&](const net::DeniedWindow& w, const net::DeniedGroup& g) {
    return json{{"daddr", g.key.daddr},
                {"dport", g.key.dport},
                {"proto", g.key.proto},
                {"saddr", g.key.saddr.empty() ? g.saddr : g.key.saddr},
                {"reason", g.key.reason},
                {"count", g.count},
                {"first", format_rfc3339_ms(g.first)},
                {"last", format_rfc3339_ms(g.last)},
                {"window_start", format_rfc3339_ms(w.start)},
                {"window_end", format_rfc3339_ms(w.end)},
                {"log_rate_per_s", rules_ ? rules_->log_rate : 0}};
  };
  auto overflow = [&](EventKind kind, const char* rule, const char* reason,
                      const net::DeniedWindow& w, std::uint64_t& counter) {
    if (w.overflow_packets == 0) return;
    report(kind, Severity::Medium, outcome, rule,
           {{"reason", reason},
            {"count", w.overflow_packets},
            {"destinations", w.overflow_keys},
            {"window_start", format_rfc3339_ms(w.start)},
            {"window_end", format_rfc3339_ms(w.end)}});
    ++counter;
  };
  if (!denied_.empty()) {
    net::DeniedWindow w = denied_.take(now_millis());
    for (const auto& g : w.groups) {
      const bool source = g.key.reason == "source-address";
      json d = window_details(w, g);
      d["uid"] = g.key.uid;
      report(EventKind::NetEgressDenied,
             source ? Severity::High : (enforce ? Severity::Medium : Severity::Low), outcome,
             source ? "network.addresses" : "network.allow", std::move(d), user_for_uid(g.key.uid));
      ++denied_events_;
    }
    overflow(EventKind::NetEgressDenied, "network.allow", "other-destinations", w, denied_events_);
  }
  if (!inbound_.empty()) {
    net::DeniedWindow w = inbound_.take(now_millis());
    for (const auto& g : w.groups) {
      report(EventKind::NetInboundDenied, enforce ? Severity::Medium : Severity::Low, outcome,
             "network.inbound", window_details(w, g));
      ++inbound_events_;
    }
    overflow(EventKind::NetInboundDenied, "network.inbound", "other-sources", w, inbound_events_);
  }
  if (!forward_.empty()) {
    net::DeniedWindow w = forward_.take(now_millis());
    for (const auto& g : w.groups) {
      report(EventKind::NetForwardDenied, enforce ? Severity::Medium : Severity::Low, outcome,
             "network.allow", window_details(w, g));
      ++forward_events_;
    }
    overflow(EventKind::NetForwardDenied, "network.allow", "other-destinations", w,
             forward_events_);
  }
}

// ---- tampering ----------------------------------------------------------------------------

void NetworkService::on_table_change(const net::TableChange& change) {
  if (change.pid == std::uint32_t(getpid())) return;  // our own transaction
  // The DNS guard's set updates come from its thread: the kernel reports the thread's id.
  if (change.pid != 0 &&
      ::access(("/proc/self/task/" + std::to_string(change.pid)).c_str(), F_OK) == 0)
    return;
  ++tamper_count_;
  replace_tables_ = true;  // whatever they changed, the sets no longer hold what we wrote
  json details = {{"pid", change.pid},
                  {"process", change.comm},
                  {"tables", change.tables},
                  {"changes", change.messages},
                  {"generation", change.generation}};
  Outcome outcome = Outcome::Reverted;
  if (rules_) {
    try {
      put_in_force(*rules_, "tamper by " + change.comm + "[" + std::to_string(change.pid) + "]");
      details["revert_ms"] = last_apply_ms_;
    } catch (const std::exception& e) {
      outcome = Outcome::Detected;
      details["error"] = e.what();
    }
  }
  log_warning("network: tables changed by " + change.comm + " (pid " + std::to_string(change.pid) +
              "): " + to_string(outcome));
  report(EventKind::NetTamper, Severity::Critical, outcome, "network.tables", std::move(details));
}

void NetworkService::verify_tables() {
  // Notifications were lost: make sure both tables are still there; if not, put them back.
  for (const char* table : {net::kOwnedTable, net::kFallbackTable}) {
    try {
      std::lock_guard nft_lock(nft_mutex_);  // the DNS guard's thread uses nft_ too
      nft_->list_json(std::string("list chain inet ") + table + " output");
    } catch (const std::exception&) {
      on_table_change({0, "unknown (notifications lost)", 0, {table}, {"missing"}});
      return;
    }
  }
}

// ---- addresses, routes, links -------------------------------------------------------------

void NetworkService::refresh_dhcp_servers() {
  // A DHCP client rewrites its lease when it (re)configures the address: pick up a new server.
  if (!rules_) return;
  std::vector<std::string> servers = net::dhcp_lease_servers(ctx_.options.lease_root);
  if (servers == rules_->dhcp_servers) return;
  net::NetRules rules = *rules_;
  rules.dhcp_servers = std::move(servers);
  try {
    put_in_force(std::move(rules), "DHCP lease changed");
  } catch (const std::exception& e) {
    log_error(std::string("network: ") + e.what());
  }
}

void NetworkService::on_address(const net::AddressChange& c) {
  if (c.family == 4) refresh_dhcp_servers();
  if (!rules_ || (c.family == 6 && is_link_local_v6(c.address))) return;
  for (const auto& p : rules_->addresses) {
    if (p.interface != c.interface || p.address.family != c.family) continue;
    const bool is_planned = host_part(c.address) == p.address.address;
    const Severity severity = is_planned == c.added ? Severity::Info : Severity::High;
    const bool enforce = rules_->mode == Mode::Enforce;
    report(EventKind::NetAddressChanged, severity,
           (!is_planned && c.added && enforce) ? Outcome::Blocked : Outcome::Detected,
           "network.addresses",
           {{"interface", c.interface},
            {"address", c.address},
            {"action", c.added ? "added" : "removed"},
            {"planned", p.address.text()},
            {"is_planned", is_planned}});
    return;
  }
}

void NetworkService::check_planned_addresses() {
  if (!rules_ || !links_) return;
  for (const auto& p : rules_->addresses) {
    bool present = false;
    json others = json::array();
    for (const auto& a : links_->addresses_of(p.interface)) {
      if (a.family != p.address.family || (a.family == 6 && is_link_local_v6(a.address))) continue;
      if (host_part(a.address) == p.address.address)
        present = true;
      else
        others.push_back(a.address);
    }
    if (present && others.empty()) continue;
    report(EventKind::NetAddressChanged, Severity::High, Outcome::Detected, "network.addresses",
           {{"interface", p.interface},
            {"action", "mismatch"},
            {"planned", p.address.text()},
            {"planned_present", present},
            {"other_addresses", others}});
  }
}

void NetworkService::on_default_route(const net::RouteChange& c) {
  report(EventKind::NetRouteChanged, c.added ? Severity::Medium : Severity::Low, Outcome::Detected,
         "network.routes",
         {{"action", c.added ? "added" : "removed"},
          {"destination", c.family == 6 ? "::/0" : "0.0.0.0/0"},
          {"gateway", c.gateway},
          {"interface", c.interface},
          {"table", c.table}});
}

void NetworkService::on_interface(const net::InterfaceAdded& c) {
  report(EventKind::NetInterfaceAdded, Severity::Medium, Outcome::Detected, "network.interfaces",
         {{"interface", c.interface}, {"kind", c.kind}, {"mac", c.mac}, {"ifindex", c.ifindex}});
}

}  // namespace seatlock
