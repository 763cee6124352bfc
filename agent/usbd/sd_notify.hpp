#pragma once
// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET, as the man page's standalone
// reference implementation does. A no-op when not started by systemd with Type=notify.
#include <string>

namespace seatlock {

// "READY=1", "STATUS=...", "STOPPING=1"; false when there is no socket or the send failed.
bool notify_systemd(const std::string& state);

}  // namespace seatlock
