#pragma once
// One open TPM: the TCTI (loaded from a config string such as "device:/dev/tpmrm0" or
// "swtpm:host=127.0.0.1,port=2321") and the ESAPI context on it. open() also checks that the
// TPM can attest at all: not in failure mode, and a SHA-256 PCR bank with PCRs 0-7.
#include <tss2/tss2_esys.h>

#include <memory>
#include <string>

#include "os/tpm/tpm_error.hpp"

namespace seatlock::tpm {

class EsysConnection {
 public:
  static Expected<std::unique_ptr<EsysConnection>> open(const std::string& tcti_config);
  ~EsysConnection();
  EsysConnection(const EsysConnection&) = delete;
  EsysConnection& operator=(const EsysConnection&) = delete;

  ESYS_CONTEXT* esys() const { return esys_; }
  const std::string& tcti_config() const { return tcti_config_; }

 private:
  EsysConnection() = default;
  std::string tcti_config_;
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  ESYS_CONTEXT* esys_ = nullptr;
};

// Frees an ESAPI output structure (Esys_Free) when it goes out of scope.
template <class T>
struct EsysFree {
  void operator()(T* p) const { Esys_Free(p); }
};
template <class T>
using EsysPtr = std::unique_ptr<T, EsysFree<T>>;

}  // namespace seatlock::tpm
