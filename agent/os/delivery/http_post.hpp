#pragma once
// One HTTPS POST with libcurl: client certificate or bearer token, CA pinning, timeouts, and
// an abort flag so a stopping daemon is never stuck in a transfer.
#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace seatlock {

struct TlsSettings {
  std::string ca_file;    // "" = system trust store
  std::string cert_file;  // client certificate (PEM)
  std::string key_file;   // its key (PEM)
  std::string token;      // bearer token (alternative to the certificate)
};

struct HttpResult {
  long status = 0;  // 0 = no HTTP answer (network/TLS error, see error)
  std::string body;
  std::optional<long> retry_after_s;  // parse_retry_after(): seconds, at most kMaxRetryAfterS
  std::string error;                  // curl's message when status == 0
};

HttpResult http_post(const std::string& url, const std::string& body,
                     const std::vector<std::string>& headers, const TlsSettings& tls,
                     const std::atomic<bool>* abort = nullptr, long timeout_s = 60);

// The same with GET (the attestation challenge, agent/daemon/firmware/attest_service.cpp).
HttpResult http_get(const std::string& url, const std::vector<std::string>& headers,
                    const TlsSettings& tls, const std::atomic<bool>* abort = nullptr,
                    long timeout_s = 60);

}  // namespace seatlock
