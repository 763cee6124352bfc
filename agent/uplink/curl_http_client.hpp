#pragma once
// HttpClient on libcurl, in this process: client certificate or bearer token, CA pinning (by
// file or by content), timeouts, abort. Used by seatlock-uplink (never by seatlockd itself,
// which must not link an HTTP/TLS stack) and by tests.
#include "os/delivery/http_post.hpp"

namespace seatlock {

class CurlHttpClient : public HttpClient {
 public:
  HttpResult perform(const HttpRequest& request, const std::atomic<bool>* abort) override;
};

}  // namespace seatlock
