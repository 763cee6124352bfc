#include "args.hpp"
#include "commands.hpp"
#include "server.hpp"

namespace seatlock::collector {

int cmd_serve(const ArgList& argv) {
  Args a(argv,
         {"listen", "db", "cert", "key", "ca", "max-connections", "idle-timeout", "max-pending"},
         {"tokens-only", "require-client-cert"});
  ServeOptions o;
  o.listen = a.get("listen").value_or(o.listen);
  o.db = a.require("db");
  o.cert = a.require("cert");
  o.key = a.require("key");
  o.ca = a.get("ca").value_or("");
  if (a.has("tokens-only") && a.has("require-client-cert"))
    throw UsageError("--tokens-only and --require-client-cert exclude each other");
  if (a.has("tokens-only")) o.auth = AuthMode::tokens_only;
  if (a.has("require-client-cert")) o.auth = AuthMode::require_cert;
  if (auto n = a.number("max-connections")) o.max_connections = *n;
  if (auto n = a.number("idle-timeout")) o.idle_timeout_s = static_cast<int>(*n);
  if (auto n = a.number("max-pending")) o.max_pending_events = *n;
  return serve(o);
}

}  // namespace seatlock::collector
