// seatlockd: wires the OS adapters and services to one sd-event loop. No policy logic here.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/event/kinds.hpp"
#include "daemon/dns/dns_service.hpp"
#include "daemon/event_store.hpp"
#include "daemon/fleet/fleet_service.hpp"
#include "daemon/loop_hooks.hpp"
#include "daemon/policy_manager.hpp"
#include "daemon/service.hpp"
#include "os/base/log.hpp"
#include "os/base/netns.hpp"
#include "os/uplink/uplink_client.hpp"
#include "seatlock/version.hpp"

using namespace seatlock;

#ifdef SEATLOCK_TEST_BUILD
namespace seatlock {
void register_test_injection(DaemonContext& ctx);  // delivery/test_inject.cpp
}
#endif

namespace {

std::vector<std::unique_ptr<Service>> make_services(DaemonContext& ctx) {
  std::vector<std::unique_ptr<Service>> services;
  // Order matters only for start-up: lock USB first, then the network, then the rest.
  if (ctx.options.enabled("usb")) services.push_back(make_usb_service(ctx));
  if (ctx.options.enabled("network")) {
    services.push_back(make_network_service(ctx));
    // The DNS guard rides on the network service's ruleset and nft context (daemon/dns).
    services.push_back(make_dns_service(ctx, *services.back()));
  }
  if (ctx.options.enabled("firmware")) services.push_back(make_firmware_service(ctx));
  if (ctx.options.enabled("firmware")) services.push_back(make_attest_service(ctx));
  if (ctx.options.enabled("delivery")) services.push_back(make_delivery_service(ctx));
  return services;
}

// The child's state, and why it is not running when the policy gives it nothing to do.
nlohmann::json uplink_status(const UplinkClient& uplink, const PolicyManager& policy) {
  nlohmann::json j = uplink.status();
  if (j.value("state", "") == "not started" && policy.current() &&
      policy.current()->report.collector.empty())
    j["reason"] = "no collector in the policy (report.collector): nothing to send";
  return j;
}

void report_lifecycle(Reporter& reporter, EventKind kind, nlohmann::json details) {
  Event e = make_event(kind, Outcome::Reported);
  e.details = std::move(details);
  reporter.report(std::move(e));
}

int run(const DaemonOptions& opts) {
  // Block the stop/reload signals before anything is visible (the control socket): one that
  // arrives during start-up then waits for the loop instead of killing the process half-started.
  block_daemon_signals();
  if (!opts.netns.empty()) enter_network_namespace(opts.netns);
  std::filesystem::create_directories(opts.state_dir);
  chmod(opts.state_dir.c_str(), 0700);

  // Declared first, so released last: every source below holds on to it.
  EventLoop loop_owner = open_default_event_loop();
  sd_event* loop = loop_owner.get();
  if (int r = sd_event_set_watchdog(loop, true); r < 0)  // WATCHDOG=1 when WatchdogSec= is set
    log_warning(std::string("cannot enable the systemd watchdog: ") + strerror(-r));

  std::unique_ptr<EventStore> sink = make_event_store(opts, loop);
  // Loaded once: the seat id is known before the first event (agent.started) is recorded, and
  // load_initial() below puts this same load in force (docs/boot.md).
  StartupLoad start = load_policy_directory(opts);
  Reporter reporter(*sink, resolve_seat_identity(opts, start));
  ControlServer control(loop, opts.control_socket, opts.control_uid);
  // report() does not wait for the disk: what a command recorded is stored before its reply.
  control.before_reply([&] { sink->flush(); });
  // HTTP runs in the unprivileged seatlock-uplink child (os/uplink), started by the first
  // request; made before the services (their workers use it), so released after them.
  UplinkClient uplink(uplink::default_uplink_path());
  DaemonContext ctx{loop, opts, reporter, control, *sink, uplink};
#ifdef SEATLOCK_TEST_BUILD
  register_test_injection(ctx);  // seatlockd-test only: events.inject
#endif

  std::vector<std::unique_ptr<Service>> services = make_services(ctx);
  PolicyManager policy(ctx, services, std::move(start));
  // Fleet bundles come from the collector of event delivery, with its identity (daemon/fleet);
  // made before the first load, which merges the stored bundle.
  if (opts.enabled("delivery")) services.push_back(make_fleet_service(ctx, policy));
  const UnixMillis started = now_millis();

  control.add("status", [&](const nlohmann::json&) {
    nlohmann::json components = nlohmann::json::object();
    for (const auto& s : services) components[s->name()] = s->status();
    return nlohmann::json{
        {"version", kVersion},
        {"pid", getpid()},
        {"started_at", format_rfc3339_ms(started)},
        {"uptime_s", (now_millis() - started) / 1000},
        {"seat", {{"id", reporter.seat().seat_id}, {"hostname", reporter.seat().hostname}}},
        {"policy", policy.status()},
        {"events", sink->status()},
        {"uplink", uplink_status(uplink, policy)},
        {"components", components}};
  });
  control.add("reload", [&](const nlohmann::json&) {
    bool ok = policy.reload("seatlockctl reload");
    if (!ok)
      throw ControlError("policy rejected, previous policy stays in force: " +
                         policy.status().value("last_rejected", nlohmann::json()).dump());
    return nlohmann::json{{"sha256", policy.current()->sha256}};
  });

  report_lifecycle(reporter, EventKind::AgentStarted,
                   {{"version", kVersion}, {"components", nlohmann::json(opts.components)}});
  if (!policy.load_initial()) {
    log_error("no valid policy in " + opts.policy_dir +
              " and no last good policy; refusing to start");
    return 1;
  }
  if (policy.current()->network.mode == Mode::Audit && opts.enabled("network"))
    log_info("network section runs in AUDIT mode: egress rules only log, they never drop");

  SignalHandlers signals(
      loop,
      [&] {
        uplink.stop();  // a child dying from the same SIGTERM (the unit's cgroup) stays dead
        sd_event_exit(loop, 0);
      },
      [&] { policy.reload("SIGHUP"); });
  PolicyDirectoryWatch policy_watch(loop, opts.policy_dir,
                                    [&] { policy.reload("policy directory changed"); });

  std::string ready = "enforcing policy " + policy.current()->sha256.substr(0, 12);
  log_info("seatlockd " + std::string(kVersion) + " ready: " + ready + ", control socket " +
           opts.control_socket);
  notify_ready(ready);
  int rc = sd_event_loop(loop);

  notify_stopping();
  // Stopping watches, not enforcement: the seat stays locked while the daemon is down.
  for (auto& s : services) s->stop();
  report_lifecycle(reporter, EventKind::AgentStopping, {{"reason", "signal"}});
  services.clear();
  return rc < 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  DaemonOptions opts = parse_daemon_options(argc, argv);
  try {
    return run(opts);
  } catch (const std::exception& e) {
    log_error(e.what());
    return 1;
  }
}
