#pragma once
// Starting seatlock-uplink from root seatlockd: fork + exec with nothing but its end of the
// socketpair (as fd 3) and stdin/stdout/stderr, after dropping to an unprivileged user in the
// forked child, before exec, so not even the dynamic loader or a library constructor of the
// HTTP/TLS stack runs as root: supplementary groups cleared, gid and uid set (all of real,
// effective, saved; the kernel then clears every capability), PR_SET_NO_NEW_PRIVS, and
// PR_SET_PDEATHSIG so the child never outlives seatlockd.
#include <sys/types.h>

#include <string>

namespace seatlock::uplink {

// The system user of packaging/ (sysusers.d/seatlock.conf).
inline constexpr const char* kUplinkUser = "_seatlock-uplink";

struct RunAs {
  uid_t uid = 65534;
  gid_t gid = 65534;
  std::string name;  // for logs
  bool drop = true;  // false when seatlockd itself is not root (nothing to drop)
};

// _seatlock-uplink when it exists, otherwise nobody (65534) with a warning in the log (a
// build-tree run, or a system where the package's user is missing).
RunAs resolve_run_as();

// The binary: next to this executable (the build tree), else the packaged
// /usr/libexec/seatlock/seatlock-uplink.
std::string default_uplink_path();

// Starts `exe` with `child_fd` as its fd 3. Returns its pid; throws std::runtime_error naming
// the step that failed (exec, setuid...) when the child could not be started as asked.
pid_t spawn_uplink(const std::string& exe, int child_fd, const RunAs& run_as);

}  // namespace seatlock::uplink
