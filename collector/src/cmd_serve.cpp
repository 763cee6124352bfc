#include <cstdlib>
#include <string>
#include <type_traits>

#include "commands.hpp"
#include "core/util/args.hpp"
#include "server.hpp"
#include "store_open.hpp"

namespace seatlock::collector {

int cmd_serve(const ArgList& argv) {
  ArgParser a(argv,
              {"listen",
               "db",
               "store",
               "clickhouse-user",
               "clickhouse-password-file",
               "cert",
               "key",
               "ca",
               "max-connections",
               "max-unauthenticated",
               "max-unauthenticated-per-address",
               "stall-timeout",
               "queue-timeout",
               "handshake-timeout",
               "head-timeout",
               "body-timeout",
               "idle-timeout",
               "max-pending",
               "threads",
               "max-poll-wait",
               "ek-ca",
               "bundles",
               "instance",
               "collector-key",
               "console-listen",
               "fleet-config"},
              {"tokens-only", "require-client-cert"});
  ServeOptions o;
  o.listen = a.get("listen").value_or(o.listen);
  o.db = store_spec(a);  // "sqlite:PATH" or "clickhouse:URL" (store_open.hpp)
  o.cert = a.require("cert");
  o.key = a.require("key");
  o.ca = a.get("ca").value_or("");
  o.fleet_bundles = a.get("bundles").value_or("");        // fleet publish's output (docs/fleet.md)
  if (auto f = a.get("ek-ca")) o.ek_ca_files = {*f};      // one PEM bundle of vendor EK CAs
  o.collector_instance = a.get("instance").value_or("");  // audit/collector_log.hpp
  o.collector_key = a.get("collector-key").value_or("");
  o.console_listen = a.get("console-listen").value_or("");  // docs/console.md
  o.fleet_config = a.get("fleet-config").value_or("");
  if (a.has("tokens-only") && a.has("require-client-cert"))
    throw UsageError("--tokens-only and --require-client-cert exclude each other");
  if (a.has("tokens-only")) o.auth = AuthMode::tokens_only;
  if (a.has("require-client-cert")) o.auth = AuthMode::require_cert;
  auto positive = [&](const char* name, auto& field) {
    if (auto n = a.number(name)) {
      if (*n == 0 || *n > 1'000'000)
        throw UsageError(std::string("--") + name + ": expected 1..1000000, got " +
                         std::to_string(*n));
      field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
    }
  };
  positive("max-connections", o.limits.max_connections);
  positive("max-unauthenticated", o.limits.max_unauthenticated);
  positive("max-unauthenticated-per-address", o.limits.max_unauthenticated_per_address);
  positive("stall-timeout", o.limits.stall_s);
  positive("handshake-timeout", o.timeouts.handshake_s);
  positive("head-timeout", o.timeouts.head_s);
  positive("body-timeout", o.timeouts.body_s);
  positive("idle-timeout", o.timeouts.idle_s);
  if (auto q = a.get("queue-timeout")) {  // seconds, decimals allowed; 0 = never shed
    char* end = nullptr;
    double v = std::strtod(q->c_str(), &end);
    if (q->empty() || *end != '\0' || !(v >= 0 && v <= 600))
      throw UsageError("--queue-timeout: expected seconds 0..600, got " + *q);
    o.limits.queue_timeout_s = v;
  }
  positive("threads", o.threads);
  positive("max-poll-wait", o.max_poll_wait_s);
  if (auto n = a.number("max-pending")) o.max_pending_events = *n;
  return serve(o);
}

}  // namespace seatlock::collector
