#pragma once
// The one seam through which seatlockd talks HTTP (event delivery, the fleet long-poll, the
// attestation rounds): an HttpClient performs one request and returns its HttpResult, honouring
// an abort flag so a stopping daemon is never stuck in a transfer.
//
// Two implementations: UplinkClient (os/uplink), which forwards each request to the
// unprivileged seatlock-uplink process, is what seatlockd uses, so the root process links no
// HTTP/TLS stack; CurlHttpClient (uplink/curl_http_client) does the transfer with libcurl, in
// that child and in tests.
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
  // The same material by content (PEM), used instead of the files when set: the unprivileged
  // uplink process cannot read root-only key files, so seatlockd sends what they hold.
  std::string ca_pem, cert_pem, key_pem;
};

struct HttpRequest {
  std::string url;
  std::optional<std::string> body;  // a POST of this body; nullopt = GET
  std::vector<std::string> headers;
  TlsSettings tls;
  long timeout_s = 60;
};

struct HttpResult {
  long status = 0;  // 0 = no HTTP answer (network/TLS error, see error)
  std::string body;
  std::optional<long> retry_after_s;  // parse_retry_after(): seconds, at most kMaxRetryAfterS
  std::string error;                  // why, when status == 0
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Blocks until the answer, an error, or `abort` (checked while waiting) becomes true.
  virtual HttpResult perform(const HttpRequest& request, const std::atomic<bool>* abort) = 0;

  HttpResult post(const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers, const TlsSettings& tls,
                  const std::atomic<bool>* abort = nullptr, long timeout_s = 60) {
    return perform({url, body, headers, tls, timeout_s}, abort);
  }
  // GET (the attestation challenge, the fleet long-poll).
  HttpResult get(const std::string& url, const std::vector<std::string>& headers,
                 const TlsSettings& tls, const std::atomic<bool>* abort = nullptr,
                 long timeout_s = 60) {
    return perform({url, std::nullopt, headers, tls, timeout_s}, abort);
  }
};

}  // namespace seatlock
