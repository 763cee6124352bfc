#include "os/firmware/local_attestation.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "os/firmware/sysfs_reader.hpp"

namespace seatlock::firmware {

BaselineCheck read_baseline(const std::string& path, const std::vector<std::string>& trusted_keys) {
  BaselineCheck r;
  r.path = path;
  if (path.empty()) {
    r.status = "missing";
    r.detail = "no baseline configured (policy firmware.baseline)";
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    r.status = err == ENOENT ? "missing" : "invalid";
    r.detail = path + ": " + std::strerror(err);
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  r = verify_baseline(ss.str(), trusted_keys);
  r.path = path;
  if (r.status != "ok") r.detail = path + ": " + r.detail;
  return r;
}

Attestation attest_local(const std::string& sysfs_root, const FirmwarePolicy& policy) {
  Snapshot s = read_snapshot(sysfs_root);
  return attest(s, policy, read_baseline(policy.baseline, policy.trusted_keys));
}

}  // namespace seatlock::firmware
