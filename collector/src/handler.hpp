#pragma once
// Request routing for the ingest server: authentication (client certificate CN or enrollment
// token), body decoding, batch parsing and hand-off to the writer. No socket I/O here.
//
// The server calls admit() as soon as a request head is read and reads the body only when it
// says so: nobody gets a body byte buffered before authenticating.
#include <optional>
#include <string>

#include "http.hpp"
#include "store.hpp"
#include "tls.hpp"
#include "writer.hpp"

namespace seatlock::collector {

inline constexpr std::size_t kMaxBodyBytes = 1 << 20;  // wire contract: uncompressed body <= 1 MiB

// What to do with a request whose head has been read.
struct Admission {
  bool read_body = false;  // true: an authenticated POST /v1/events; read it, then handle()
  std::string seat;        // the authenticated seat (read_body only)
  HttpResponse response;   // the answer when !read_body (healthz, 401, 404, ...)
};

class RequestHandler {
 public:
  RequestHandler(EventStore& store, IngestWriter& writer, AuthMode mode)
      : store_(store), writer_(writer), mode_(mode) {}
  // peer_cn: verified client-certificate CN, if any. `peer` names the client in log lines.
  Admission admit(const HttpRequest& head, const std::optional<std::string>& peer_cn,
                  const std::string& peer);
  // An admitted POST /v1/events with its body. Refusals are remembered per seat (`seats`).
  HttpResponse handle(const HttpRequest& req, const std::string& seat, const std::string& peer);
  // Remembers a refusal of an authenticated seat's batch (shown by `seats`).
  void note_refusal(const std::string& seat, const HttpResponse& refusal);

 private:
  // The seat this request speaks for, or an error response (401/403). Tokens are looked up in
  // the store every time, so a revoked token stops working at once.
  std::optional<std::string> authenticate(const HttpRequest& req,
                                          const std::optional<std::string>& peer_cn,
                                          HttpResponse& error);
  HttpResponse post_events(const HttpRequest& req, const std::string& seat);

  EventStore& store_;
  IngestWriter& writer_;
  AuthMode mode_;
};

}  // namespace seatlock::collector
