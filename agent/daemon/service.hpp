#pragma once
// What every area plugs into seatlockd. The daemon owns the loop, the reporter and the control
// socket; each service registers its own io sources, timers and control commands.
#include <systemd/sd-event.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/policy/policy.hpp"
#include "daemon/options.hpp"
#include "os/control/control_server.hpp"
#include "os/delivery/http_post.hpp"
#include "os/events/reporter.hpp"

namespace seatlock {

class EventStore;  // daemon/event_store.hpp

struct DaemonContext {
  sd_event* loop;
  const DaemonOptions& options;
  Reporter& reporter;
  ControlServer& control;
  EventStore& events;  // the sink behind `reporter`, and the spool for delivery
  HttpClient& http;    // all HTTP (delivery, fleet, attestation): the seatlock-uplink child
};

class Service {
 public:
  virtual ~Service() = default;
  virtual std::string name() const = 0;
  // Phase 1 of a policy change: check what only the OS can tell (a user exists, a key file
  // reads). Throw std::runtime_error with a precise message to reject the whole policy; nothing
  // may change here.
  virtual void check(const Policy& policy) { (void)policy; }
  // Phase 2: put the policy in force. Called for the first policy at start and on each accepted
  // reload.
  virtual void apply(const Policy& policy) = 0;
  // For `seatlockctl status`: {"state":"running", ...}.
  virtual nlohmann::json status() const = 0;
  // SIGTERM: stop watching. Must NOT lift enforcement (the seat stays locked).
  virtual void stop() {}
};

// One factory per area, each in agent/daemon/<area>/.
std::unique_ptr<Service> make_usb_service(DaemonContext& ctx);
std::unique_ptr<Service> make_network_service(DaemonContext& ctx);
std::unique_ptr<Service> make_firmware_service(DaemonContext& ctx);
// TPM remote attestation (firmware/attest_service.cpp); idle unless firmware.attestation is set.
std::unique_ptr<Service> make_attest_service(DaemonContext& ctx);
std::unique_ptr<Service> make_delivery_service(DaemonContext& ctx);

}  // namespace seatlock
