#include "os/uplink/spawn_uplink.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "os/base/log.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SEATLOCK_LIBEXEC_DIR
#define SEATLOCK_LIBEXEC_DIR "/usr/libexec/seatlock"
#endif

namespace seatlock::uplink {

namespace {

constexpr int kChildFd = 3;

// What the forked child reports through the error pipe when a step before exec fails.
struct ChildFailure {
  int step;
  int err;
};
constexpr const char* kSteps[] = {"unblock signals",
                                  "dup2 its socket to fd 3",
                                  "close inherited descriptors",
                                  "setgroups(0)",
                                  "setresgid",
                                  "setresuid",
                                  "PR_SET_NO_NEW_PRIVS",
                                  "PR_SET_PDEATHSIG",
                                  "execve"};

[[noreturn]] void child_fail(int errfd, int step) {
  ChildFailure f{step, errno};
  ssize_t ignored = write(errfd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

// Only async-signal-safe calls from here to execve: the parent has other threads.
[[noreturn]] void exec_child(const char* exe, int sock, int errfd, const RunAs& as, pid_t parent,
                             int max_fd, char* const argv[], char* const envp[]) {
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(errfd, 0);
  if (errfd == kChildFd) errfd = fcntl(errfd, F_DUPFD_CLOEXEC, kChildFd + 1);
  if (sock == kChildFd ? fcntl(sock, F_SETFD, 0) != 0 : dup2(sock, kChildFd) != kChildFd)
    child_fail(errfd, 1);
  // Everything above fd 3 closes at exec (seatlockd opens all its descriptors O_CLOEXEC; this
  // also covers one that a library opened without it). The error pipe stays usable until then.
  if (syscall(SYS_close_range, kChildFd + 1, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = kChildFd + 1; fd < max_fd; ++fd)
      if (fd != errfd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (as.drop) {
    // Raw syscalls: glibc's wrappers would try to signal the parent's other (absent) threads.
    if (syscall(SYS_setgroups, 0, nullptr) != 0) child_fail(errfd, 3);
    if (syscall(SYS_setresgid, as.gid, as.gid, as.gid) != 0) child_fail(errfd, 4);
    if (syscall(SYS_setresuid, as.uid, as.uid, as.uid) != 0) child_fail(errfd, 5);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(errfd, 6);
  // Set after the uid change, which would clear it; then make sure the parent did not end
  // in between.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent) child_fail(errfd, 7);
  execve(exe, argv, envp);
  child_fail(errfd, 8);
}

}  // namespace

RunAs resolve_run_as() {
  RunAs as;
  if (geteuid() != 0) {  // nothing to drop (a test running seatlockd as itself)
    as.uid = geteuid();
    as.gid = getegid();
    as.name = "uid " + std::to_string(as.uid);
    as.drop = false;
    return as;
  }
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (getpwnam_r(kUplinkUser, &pw, buf, sizeof buf, &found) == 0 && found) {
    as.uid = pw.pw_uid;
    as.gid = pw.pw_gid;
    as.name = kUplinkUser;
  } else {
    as.name = "nobody";
    log_warning(std::string("uplink: no user ") + kUplinkUser +
                " (packaging's sysusers.d creates it); running seatlock-uplink as nobody "
                "(65534)");
  }
  if (as.uid == 0 || as.gid == 0)
    throw std::runtime_error(std::string("uplink: user ") + as.name +
                             " has uid or gid 0; refusing to run seatlock-uplink as root");
  return as;
}

std::string default_uplink_path() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir.erase(dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
    std::string sibling = dir + "/seatlock-uplink";
    if (access(sibling.c_str(), X_OK) == 0) return sibling;
  }
  return SEATLOCK_LIBEXEC_DIR "/seatlock-uplink";
}

pid_t spawn_uplink(const std::string& exe, int child_fd, const RunAs& run_as) {
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("uplink: pipe2 failed: ") + strerror(errno));
  rlimit nofile{};
  int max_fd = 65536;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536u)
    max_fd = static_cast<int>(nofile.rlim_cur);
  std::string arg0 = "seatlock-uplink", path_env = "PATH=/usr/bin:/bin";
  char* argv[] = {arg0.data(), nullptr};
  char* envp[] = {path_env.data(), nullptr};
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(err_pipe[0]);
    close(err_pipe[1]);
    throw std::runtime_error(std::string("uplink: fork failed: ") + strerror(e));
  }
  if (pid == 0) exec_child(exe.c_str(), child_fd, err_pipe[1], run_as, parent, max_fd, argv, envp);
  close(err_pipe[1]);
  ChildFailure f{};
  ssize_t r;
  do r = read(err_pipe[0], &f, sizeof f);
  while (r < 0 && errno == EINTR);
  close(err_pipe[0]);
  if (r == 0) return pid;  // the pipe closed at exec: the child runs seatlock-uplink
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (r != static_cast<ssize_t>(sizeof f) || f.step < 0 || f.step > 8)
    throw std::runtime_error("uplink: the child for " + exe + " failed before exec");
  throw std::runtime_error("uplink: cannot start " + exe + " as " + run_as.name + ": " +
                           kSteps[f.step] + " failed: " + strerror(f.err));
}

}  // namespace seatlock::uplink
