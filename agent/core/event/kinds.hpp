#pragma once
// The one table of event kinds a seat records, and typed constructors for the shared fields.
// Producers write make_event(EventKind::UsbBlocked, Outcome::Blocked, ...) instead of filling
// kind/severity/outcome strings by hand, so an unknown kind does not compile. docs/events.md
// ("## Kinds") lists the same kinds; tests/unit/event_kinds_test.cpp keeps the two equal.
// The wire keeps the strings (Event's fields), so the JSON of an event does not change.
#include <optional>
#include <span>
#include <string_view>

#include "core/event/event.hpp"

namespace seatlock {

enum class EventKind {
  UsbBlocked,
  UsbStorageDetected,
  UsbExceptionUsed,
  UsbExceptionExpired,
  UsbExceptionAdded,
  UsbExceptionRemoved,
  UsbEventsDropped,
  NetEgressDenied,
  NetInboundDenied,
  NetForwardDenied,
  NetDnsDenied,
  NetTamper,
  NetAddressChanged,
  NetRouteChanged,
  NetInterfaceAdded,
  NetExceptionExpired,
  NetClosed,
  NetOpened,
  FirmwareAttestation,
  FirmwareUnattested,
  FirmwareAttestationVerdict,
  PolicyApplied,
  PolicyRejected,
  PolicyFleetExpired,
  AgentStarted,
  AgentStopping,
  AgentHeartbeat,
  SpoolOverflow,
  SpoolDegraded,
  SpoolRecovered,
  SpoolReset,
  DeliveryQuarantined,
  DeliverySetAside,
  DeliveryAuthFailed,
};

enum class Severity { Info, Low, Medium, High, Critical };

enum class Outcome {
  Blocked,
  Allowed,
  Reported,
  Detected,
  Dropped,
  Expired,
  Applied,
  PartiallyApplied,
  Rejected,
  Reverted,
};

// The mode of the policy section that decided; None leaves `mode` out of the event.
enum class EventMode { None, Enforce, Audit };

// Housekeeping kinds never count as violations; any other kind does when its severity is not
// info (is_violation()). Violations are the last rows the spool gives up.
enum class KindClass { Violation, Housekeeping };

struct EventKindInfo {
  EventKind kind;
  const char* name;   // on the wire: "usb.blocked"
  Severity severity;  // the usual severity; producers may raise or lower it per event
  KindClass cls;
};

// Every kind, in EventKind order.
std::span<const EventKindInfo> event_kind_table();
const EventKindInfo& kind_info(EventKind k);
std::optional<EventKind> event_kind_from_string(std::string_view name);

const char* to_string(EventKind k);
const char* to_string(Severity s);
const char* to_string(Outcome o);
const char* to_string(EventMode m);
std::optional<Severity> severity_from_string(std::string_view s);

// Housekeeping per the table; kinds not in it (collector kinds, test kinds) are not.
bool is_housekeeping_kind(std::string_view kind);

// An event draft with kind, severity, outcome and mode set (details, rule, user as needed);
// the Reporter fills id, time, seat, user and policy hash.
Event make_event(EventKind kind, Severity severity, Outcome outcome,
                 EventMode mode = EventMode::None);
// The same with the kind's usual severity from the table.
Event make_event(EventKind kind, Outcome outcome, EventMode mode = EventMode::None);

}  // namespace seatlock
