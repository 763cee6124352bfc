#pragma once
// The ingest endpoints: GET /healthz and POST /v1/events (body decoding, batch parsing, hand-off
// to the single writer; the answer is sent when the writer's group commit is on disk, without
// holding an I/O thread meanwhile). Routing and authentication: router.hpp. No socket I/O here.
#include <string>

#include "router.hpp"
#include "writer.hpp"

namespace seatlock::collector {

inline constexpr std::size_t kMaxBodyBytes = 1 << 20;  // wire contract: uncompressed body <= 1 MiB

class IngestEndpoints {
 public:
  explicit IngestEndpoints(IngestWriter& writer) : writer_(writer) {}
  void add_routes(Router& router);

 private:
  void post_events(HttpRequest& req, const std::string& seat, const std::string& peer,
                   Respond respond);
  // Remembers a refusal of an authenticated seat's batch (shown by `seats`).
  void note_refusal(const std::string& seat, const HttpResponse& refusal);

  IngestWriter& writer_;
};

}  // namespace seatlock::collector
