#pragma once
// A network namespace of the test's own: tests that assert on the loopback's sockets (a port
// number that is nobody's) or tune per-namespace sysctls must not share the host's with the
// other tests ctest runs beside them.
namespace seatlock::testing {

// Moves the calling process into a new network namespace (unshare(CLONE_NEWNET): every thread
// and child started afterwards is in it) and brings loopback up. Needs root; throws with the
// reason.
void enter_own_network_namespace();

}  // namespace seatlock::testing
