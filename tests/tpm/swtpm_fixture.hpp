#pragma once
// Test fixture: a private swtpm (TPM 2.0 simulator) listening on free loopback ports, with its
// state in its own temp dir. swtpm is a test dependency (scripts/deps.d/tpm.txt): a missing
// binary is a failure, never a skip.
#include <sys/types.h>

#include <string>

namespace seatlock::test {

struct SwtpmOptions {
  // Manufacture the TPM with swtpm_setup: EK created and an EK certificate (signed by a local CA
  // in ca_dir()) written to NV index 0x01c00002, plus a platform certificate.
  bool with_ek_cert = false;
  // Manufacture with only these PCR banks active (swtpm_setup --pcr-banks), e.g. "sha1" for a
  // TPM without a SHA-256 bank. Empty: swtpm's default (sha1 + sha256 allocated).
  std::string pcr_banks;
};

class Swtpm {
 public:
  explicit Swtpm(SwtpmOptions options = {});
  ~Swtpm();
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  // TCTI config string for tpm2-tss / tpm2-tools: "swtpm:host=127.0.0.1,port=P".
  std::string tcti() const;
  int port() const { return port_; }
  int ctrl_port() const { return port_ + 1; }
  const std::string& dir() const { return dir_; }            // the fixture's temp dir
  std::string state_dir() const { return dir_ + "/state"; }  // swtpm's NVRAM
  // The local CA that signed the EK certificate (with_ek_cert): issuercert.pem (intermediate)
  // and swtpm-localca-rootca-cert.pem (root).
  std::string ca_dir() const { return dir_ + "/localca"; }

  // Stops the process (SIGTERM, then waits); the state stays, start() brings the same TPM back.
  void stop();
  // Starts swtpm on the state dir (new free ports if the old ones are taken) and waits until
  // it accepts connections. Throws std::runtime_error with swtpm's log if it does not come up.
  void start();
  bool running() const { return pid_ > 0; }

 private:
  void manufacture();
  SwtpmOptions options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace seatlock::test
