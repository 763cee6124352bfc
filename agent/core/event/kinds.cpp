#include "core/event/kinds.hpp"

#include <array>
#include <stdexcept>

namespace seatlock {
namespace {

using K = EventKind;
using S = Severity;
constexpr KindClass V = KindClass::Violation;
constexpr KindClass H = KindClass::Housekeeping;

// In EventKind order (checked at compile time below). docs/events.md lists the same rows.
constexpr std::array<EventKindInfo, 34> kKinds = {{
    {K::UsbBlocked, "usb.blocked", S::High, V},
    {K::UsbStorageDetected, "usb.storage_detected", S::High, V},
    {K::UsbExceptionUsed, "usb.exception_used", S::Medium, V},
    {K::UsbExceptionExpired, "usb.exception_expired", S::Medium, V},
    {K::UsbExceptionAdded, "usb.exception_added", S::Medium, V},
    {K::UsbExceptionRemoved, "usb.exception_removed", S::Info, V},
    {K::UsbEventsDropped, "usb.events_dropped", S::Medium, V},
    {K::NetEgressDenied, "net.egress_denied", S::Medium, V},
    {K::NetInboundDenied, "net.inbound_denied", S::Medium, V},
    {K::NetForwardDenied, "net.forward_denied", S::Medium, V},
    {K::NetDnsDenied, "net.dns_denied", S::Medium, V},
    {K::NetTamper, "net.tamper", S::Critical, V},
    {K::NetAddressChanged, "net.address_changed", S::High, V},
    {K::NetRouteChanged, "net.route_changed", S::Medium, V},
    {K::NetInterfaceAdded, "net.interface_added", S::Medium, V},
    {K::NetExceptionExpired, "net.exception_expired", S::Info, V},
    {K::NetClosed, "net.closed", S::Medium, V},
    {K::NetOpened, "net.opened", S::Info, V},
    {K::FirmwareAttestation, "firmware.attestation", S::Info, V},
    {K::FirmwareUnattested, "firmware.unattested", S::Medium, V},
    {K::FirmwareAttestationVerdict, "firmware.attestation_verdict", S::Info, V},
    {K::PolicyApplied, "policy.applied", S::Info, H},
    {K::PolicyRejected, "policy.rejected", S::Medium, V},
    {K::PolicyFleetExpired, "policy.fleet_expired", S::Medium, V},
    {K::AgentStarted, "agent.started", S::Info, H},
    {K::AgentStopping, "agent.stopping", S::Info, H},
    {K::AgentHeartbeat, "agent.heartbeat", S::Info, H},
    {K::SpoolOverflow, "spool.overflow", S::Medium, H},
    {K::SpoolDegraded, "spool.degraded", S::Medium, V},
    {K::SpoolRecovered, "spool.recovered", S::Info, V},
    {K::SpoolReset, "spool.reset", S::High, V},
    {K::DeliveryQuarantined, "delivery.quarantined", S::Medium, V},
    {K::DeliverySetAside, "delivery.set_aside", S::Medium, V},
    {K::DeliveryAuthFailed, "delivery.auth_failed", S::Medium, V},
}};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kKinds.size(); ++i)
    if (static_cast<std::size_t>(kKinds[i].kind) != i) return false;
  return static_cast<std::size_t>(K::DeliveryAuthFailed) + 1 == kKinds.size();
}
static_assert(in_enum_order(), "kKinds must list every EventKind once, in enum order");

constexpr std::array<const char*, 5> kSeverities = {"info", "low", "medium", "high", "critical"};
constexpr std::array<const char*, 10> kOutcomes = {
    "blocked", "allowed", "reported",          "detected", "dropped",
    "expired", "applied", "partially-applied", "rejected", "reverted"};
static_assert(static_cast<std::size_t>(Outcome::Reverted) + 1 == kOutcomes.size());

}  // namespace

std::span<const EventKindInfo> event_kind_table() {
  return kKinds;
}

const EventKindInfo& kind_info(EventKind k) {
  return kKinds.at(static_cast<std::size_t>(k));
}

std::optional<EventKind> event_kind_from_string(std::string_view name) {
  for (const auto& k : kKinds)
    if (name == k.name) return k.kind;
  return std::nullopt;
}

const char* to_string(EventKind k) {
  return kind_info(k).name;
}

const char* to_string(Severity s) {
  return kSeverities.at(static_cast<std::size_t>(s));
}

const char* to_string(Outcome o) {
  return kOutcomes.at(static_cast<std::size_t>(o));
}

const char* to_string(EventMode m) {
  switch (m) {
    case EventMode::Enforce:
      return "enforce";
    case EventMode::Audit:
      return "audit";
    case EventMode::None:
      break;
  }
  return "";
}

std::optional<Severity> severity_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kSeverities.size(); ++i)
    if (s == kSeverities[i]) return static_cast<Severity>(i);
  return std::nullopt;
}

bool is_housekeeping_kind(std::string_view kind) {
  auto k = event_kind_from_string(kind);
  return k && kind_info(*k).cls == KindClass::Housekeeping;
}

Event make_event(EventKind kind, Severity severity, Outcome outcome, EventMode mode) {
  Event e;
  e.kind = to_string(kind);
  e.severity = to_string(severity);
  e.outcome = to_string(outcome);
  e.mode = to_string(mode);
  return e;
}

Event make_event(EventKind kind, Outcome outcome, EventMode mode) {
  return make_event(kind, kind_info(kind).severity, outcome, mode);
}

}  // namespace seatlock
