#pragma once
// The daemon's spool (created by make_event_sink), for the delivery service. nullptr when the
// sink is not open.
namespace seatlock {
class Spool;
Spool* daemon_spool();
}  // namespace seatlock
