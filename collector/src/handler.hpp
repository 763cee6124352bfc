#pragma once
// Request routing for the ingest server: authentication (client certificate CN or enrollment
// token), body decoding, batch parsing and hand-off to the writer. No socket I/O here.
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "http.hpp"
#include "store.hpp"
#include "tls.hpp"
#include "writer.hpp"

namespace seatlock::collector {

inline constexpr std::size_t kMaxBodyBytes = 1 << 20;  // wire contract: uncompressed body <= 1 MiB

class RequestHandler {
 public:
  RequestHandler(EventStore& store, IngestWriter& writer, AuthMode mode)
      : store_(store), writer_(writer), mode_(mode) {}
  // peer_cn: verified client-certificate CN, if any. `peer` names the client in log lines.
  HttpResponse handle(const HttpRequest& req, const std::optional<std::string>& peer_cn,
                      const std::string& peer);

 private:
  // The seat this request speaks for, or an error response (401/403).
  std::optional<std::string> authenticate(const HttpRequest& req,
                                          const std::optional<std::string>& peer_cn,
                                          HttpResponse& error);
  HttpResponse post_events(const HttpRequest& req, const std::string& seat);

  EventStore& store_;
  IngestWriter& writer_;
  AuthMode mode_;
  std::mutex tokens_mu_;
  std::unordered_map<std::string, std::string> token_cache_;  // token hash -> seat (positive only)
};

}  // namespace seatlock::collector
