// HttpClient on libcurl (see curl_http_client.hpp).
#include "uplink/curl_http_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <ctime>
#include <mutex>
#include <string_view>

#include "os/delivery/verdict.hpp"

namespace seatlock {

namespace {

size_t collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() < (1u << 20)) out->append(data, size * n);  // a collector answer is small
  return size * n;
}

// Keeps the raw Retry-After value of the final response (earlier responses, e.g. a 100, are
// forgotten at their status line); it is parsed by parse_retry_after(), never by curl.
size_t header(char* data, size_t size, size_t n, void* user) {
  auto* retry_after = static_cast<std::string*>(user);
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.rfind("HTTP/", 0) == 0) {
    retry_after->clear();
  } else if (line.size() > kName.size() && line.size() < 512) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    if (match) retry_after->assign(line.substr(kName.size()));
  }
  return size * n;
}

int progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* abort = static_cast<const std::atomic<bool>*>(user);
  return abort && abort->load() ? 1 : 0;
}

// PEM given by content (CURLOPT_*_BLOB; curl copies the bytes).
void set_blob(CURL* c, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(c, option, &blob);
}

}  // namespace

// One transfer: a POST of the request's body, or a GET when it has none.
HttpResult CurlHttpClient::perform(const HttpRequest& request, const std::atomic<bool>* abort) {
  const std::string& url = request.url;
  const std::string* body = request.body ? &*request.body : nullptr;
  const TlsSettings& tls = request.tls;
  const long timeout_s = request.timeout_s;
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  HttpResult r;
  CURL* c = curl_easy_init();
  if (!c) {
    r.error = "curl_easy_init failed";
    return r;
  }
  curl_slist* hs = nullptr;
  for (const auto& h : request.headers) hs = curl_slist_append(hs, h.c_str());
  if (!tls.token.empty())
    hs = curl_slist_append(hs, ("Authorization: Bearer " + tls.token).c_str());
  hs = curl_slist_append(hs, "Expect:");  // no 100-continue round trip
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  std::string retry_after;
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &retry_after);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");  // evidence goes straight to the collector
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, abort);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  if (!tls.ca_pem.empty())
    set_blob(c, CURLOPT_CAINFO_BLOB, tls.ca_pem);
  else if (!tls.ca_file.empty())
    curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_pem.empty())
    set_blob(c, CURLOPT_SSLCERT_BLOB, tls.cert_pem);
  else if (!tls.cert_file.empty())
    curl_easy_setopt(c, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_pem.empty())
    set_blob(c, CURLOPT_SSLKEY_BLOB, tls.key_pem);
  else if (!tls.key_file.empty())
    curl_easy_setopt(c, CURLOPT_SSLKEY, tls.key_file.c_str());
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    r.retry_after_s = parse_retry_after(retry_after, std::time(nullptr));
  } else {
    r.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  }
  curl_slist_free_all(hs);
  curl_easy_cleanup(c);
  return r;
}

}  // namespace seatlock
