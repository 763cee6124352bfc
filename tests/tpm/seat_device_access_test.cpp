// A TPM device the seat may not open is reported as a permission problem naming the device, not
// as "no TPM" (the VM scenario once read `unattested (no-tpm-device): ... IO failure` for a
// seatlockd without access to /dev/tpmrm0).
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "tpm/seat_test_support.hpp"

using namespace seatlock;
using namespace seatlock::test;

namespace {

// open_tpm_attestor on `tcti` as an unprivileged user (nobody when the test runs as root, so
// that mode bits apply); returns "code: reason".
std::string open_unprivileged(const std::string& tcti, const std::string& state_dir) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    auto r = tpm::open_tpm_attestor({tcti, state_dir, ""});
    std::string text = r.ok() ? "ok" : r.error().code + ": " + r.error().reason;
    (void)!write(fds[1], text.data(), text.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

}  // namespace

TEST_CASE("a TPM device without access is tpm-permission-denied, naming the device",
          "[tpm][seat]") {
  const std::string dir = make_temp_dir("tpm-perm");
  REQUIRE(chmod(dir.c_str(), 0755) == 0);
  const std::string dev = dir + "/tpmrm0";
  // A character device when this process may make one (root), like the real /dev/tpmrm0
  // (crw-rw---- root:tss); otherwise a file. Either way, mode 0600 owned by someone else.
  if (mknod(dev.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0) {
    int fd = ::open(dev.c_str(), O_CREAT | O_WRONLY, 0000);
    REQUIRE(fd >= 0);
    close(fd);
    REQUIRE(chmod(dev.c_str(), 0000) == 0);
  }
  std::string got = open_unprivileged("device:" + dev, make_temp_dir("tpm-perm-state"));
  INFO(got);
  CHECK(got.rfind("tpm-permission-denied: ", 0) == 0);
  CHECK_THAT(got, Catch::Contains("permission denied opening " + dev));
}

TEST_CASE("a TPM device path that is not a character device is no-tpm-device, saying so",
          "[tpm][seat]") {
  const std::string dir = make_temp_dir("tpm-file");
  const std::string dev = dir + "/tpmrm0";
  {
    int fd = ::open(dev.c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    close(fd);
  }
  auto r = tpm::open_tpm_attestor({"device:" + dev, dir, ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "no-tpm-device");
  CHECK_THAT(r.error().reason, Catch::Contains(dev + " is not a character device"));
}
