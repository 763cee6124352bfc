#include "os/tpm/esys_connection.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

namespace seatlock::tpm {

namespace {

// "device:/dev/tpmrm0" -> "/dev/tpmrm0"; "" when the config names another TCTI.
std::string device_path(const std::string& config) {
  if (config.rfind("device:", 0) == 0) return config.substr(7);
  if (config == "device") return "/dev/tpmrm0";
  if (config.rfind("/dev/", 0) == 0) return config;
  return "";
}

// Whether PCRs 0-7 are allocated in the SHA-256 bank.
Expected<bool> has_sha256_pcrs(ESYS_CONTEXT* esys) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0,
                                  1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> caps(raw);
  if (rc != TSS2_RC_SUCCESS) return tss_error("reading the PCR banks", rc);
  const TPML_PCR_SELECTION& banks = caps->data.assignedPCR;
  for (UINT32 i = 0; i < banks.count; ++i)
    if (banks.pcrSelections[i].hash == TPM2_ALG_SHA256)
      return banks.pcrSelections[i].sizeofSelect >= 1 &&
             banks.pcrSelections[i].pcrSelect[0] == 0xff;
  return false;
}

// Why the device TCTI could not use `dev`, told apart before tpm2-tss hides it behind one
// "IO failure": a permission problem (seatlockd not root / not in group tss) is not a missing
// TPM. nullopt = the device opens and is a character device.
std::optional<TpmError> device_problem(const std::string& dev) {
  int fd = ::open(dev.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM)
      return TpmError{"tpm-permission-denied",
                      "permission denied opening " + dev +
                          " (the TPM is there; seatlockd needs read-write access to it: run as "
                          "root or in the device's group, usually tss)"};
    if (err == ENOENT) return TpmError{"no-tpm-device", "no TPM: " + dev + " does not exist"};
    return TpmError{"no-tpm-device", "cannot open " + dev + ": " + std::strerror(err)};
  }
  struct stat st {};
  bool chr = ::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
  ::close(fd);
  if (!chr) return TpmError{"no-tpm-device", "no TPM: " + dev + " is not a character device"};
  return std::nullopt;
}

}  // namespace

Expected<std::unique_ptr<EsysConnection>> EsysConnection::open(const std::string& tcti_config) {
  const std::string dev = device_path(tcti_config);
  std::error_code ec;
  // exists() is false with `ec` set when the path cannot even be looked at (a directory on the
  // way is not searchable): that is device_problem()'s permission case, not a missing TPM.
  if (!dev.empty() && !std::filesystem::exists(dev, ec) && !ec)
    return TpmError{"no-tpm-device", "no TPM: " + dev + " does not exist"};
  if (!dev.empty())
    if (auto problem = device_problem(dev)) return *problem;

  std::unique_ptr<EsysConnection> c(new EsysConnection);
  c->tcti_config_ = tcti_config;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti_config.c_str(), &c->tcti_);
  if (rc != TSS2_RC_SUCCESS) {
    c->tcti_ = nullptr;
    TpmError e = tss_error("opening TPM via TCTI '" + tcti_config + "'", rc);
    e.code = dev.empty() ? "tcti" : "no-tpm-device";
    return e;
  }
  rc = Esys_Initialize(&c->esys_, c->tcti_, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    c->esys_ = nullptr;
    return tss_error("initialising ESAPI on '" + tcti_config + "'", rc);
  }

  // A TPM in failure mode answers only GetTestResult and GetCapability.
  TPM2_RC test_result = TPM2_RC_SUCCESS;
  TPM2B_MAX_BUFFER* out = nullptr;
  rc = Esys_GetTestResult(c->esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &out, &test_result);
  EsysPtr<TPM2B_MAX_BUFFER> out_owner(out);
  if (rc != TSS2_RC_SUCCESS)
    return tss_error("asking the TPM on '" + tcti_config + "' for its self-test result", rc);
  if (test_result != TPM2_RC_SUCCESS) {
    TpmError e = tss_error("TPM self-test result", test_result);
    e.code = "tpm-failure-mode";
    return e;
  }

  auto sha256 = has_sha256_pcrs(c->esys_);
  if (!sha256) return sha256.error();
  if (!*sha256)
    return TpmError{"no-sha256-bank",
                    "the TPM has no SHA-256 PCR bank with PCRs 0-7 allocated (firmware setting "
                    "'TPM PCR banks'); quotes over SHA-256 PCRs 0-7 are impossible"};
  return c;
}

EsysConnection::~EsysConnection() {
  if (esys_) Esys_Finalize(&esys_);
  if (tcti_) Tss2_TctiLdr_Finalize(&tcti_);
}

}  // namespace seatlock::tpm
