#include "handler.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "core/gzip/gzip.hpp"

namespace seatlock::collector {
namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// 503 while the writer's queue is full. Retry-After grows with the queue (about what one
// writer drains in that time) and is spread over [base, 2*base]: seats honour it exactly, so
// a fixed value would bring every refused seat back in the same second.
HttpResponse busy_response(std::size_t pending_events) {
  constexpr std::size_t kDrainPerSecond = 20000;  // conservative single-writer rate
  const long base = 1 + static_cast<long>(pending_events / kDrainPerSecond);
  thread_local std::mt19937 rng{std::random_device{}()};
  const long wait = std::min(60L, std::uniform_int_distribution<long>(base, 2 * base)(rng));
  auto r = error_response(503, "collector busy; retry later");
  r.headers.emplace_back("Retry-After", std::to_string(wait));
  return r;
}

std::size_t count_lines(const std::string& body) {
  auto n = count_newlines(body);
  return body.empty() || body.back() == '\n' ? n : n + 1;
}

HttpResponse answer(const WriteOutcome& o, const IngestWriter& writer) {
  switch (o.kind) {
    case WriteOutcome::Kind::applied: {
      nlohmann::json j = {{"stored", o.applied.stored},
                          {"duplicates", o.applied.duplicates},
                          {"last_seq", o.applied.last_seq}};
      return HttpResponse{200, j.dump(), {}};
    }
    case WriteOutcome::Kind::rejected:
      return error_response(o.rejection.status, o.rejection.message, o.rejection.line);
    case WriteOutcome::Kind::overloaded:
      // Only ever decided on the submitting thread, outside the writer's lock.
      return busy_response(writer.pending_events());
    case WriteOutcome::Kind::failed:
      break;
  }
  auto r = error_response(503, "store error: " + o.error);
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

}  // namespace

void IngestEndpoints::add_routes(Router& router) {
  Route health;
  health.method = "GET";
  health.path = "/healthz";
  health.access = Access::open;
  health.handle = [](HttpRequest&, const std::string&, const std::string&, const Respond& respond) {
    respond(HttpResponse{200, R"({"status":"ok"})", {}});
  };
  router.add(std::move(health));

  Route events;
  events.method = "POST";
  events.path = "/v1/events";
  events.access = Access::seat;
  events.max_body = kMaxBodyBytes;
  events.too_large = "body exceeds 1 MiB; split the batch";
  events.handle = [this](HttpRequest& req, const std::string& seat, const std::string& peer,
                         Respond respond) { post_events(req, seat, peer, std::move(respond)); };
  events.on_refused = [this](const std::string& seat, const HttpResponse& r) {
    note_refusal(seat, r);
  };
  router.add(std::move(events));
}

// A seat whose batches are all refused must still show up in `seats` (not as "never seen").
void IngestEndpoints::note_refusal(const std::string& seat, const HttpResponse& refusal) {
  auto j = nlohmann::json::parse(refusal.body, nullptr, false);  // our own error_response()
  std::string why = j.is_object() ? j.value("error", refusal.body) : refusal.body;
  writer_.note_refusal(seat, refusal.status, why, now_ms());
}

void IngestEndpoints::post_events(HttpRequest& req, const std::string& seat,
                                  const std::string& peer, Respond respond) {
  // Refusals are logged and remembered for `seats`, whether decided here or by the writer.
  auto finish = [this, seat, peer, respond = std::move(respond)](HttpResponse r) {
    if (r.status != 200)
      std::fprintf(stderr, "seatlock-collector: %s seat %s: %d %s\n", peer.c_str(), seat.c_str(),
                   r.status, r.body.c_str());
    if (r.status >= 400 && r.status < 500) note_refusal(seat, r);
    respond(std::move(r));
  };
  std::string enc = req.header("content-encoding");
  std::string inflated;
  const std::string* body = &req.body;
  if (enc == "gzip" || enc == "x-gzip") {
    switch (gunzip(req.body, inflated, kMaxBodyBytes)) {
      case GunzipResult::ok:
        break;
      case GunzipResult::too_large:
        return finish(error_response(413, "uncompressed body exceeds 1 MiB; split the batch"));
      case GunzipResult::corrupt:
        return finish(error_response(400, "Content-Encoding: gzip but the body is not valid gzip"));
    }
    body = &inflated;
  } else if (!enc.empty() && enc != "identity") {
    return finish(
        error_response(415, "Content-Encoding: expected gzip or identity, got \"" + enc + "\""));
  }
  if (body->size() > kMaxBodyBytes)
    return finish(error_response(413, "body exceeds 1 MiB; split the batch"));

  // Parsing is most of a batch's CPU: a batch the queue cannot take is refused before it.
  if (!writer_.has_room(count_lines(*body))) return finish(busy_response(writer_.pending_events()));

  BatchHeaders h{req.header("x-seatlock-key"), req.header("x-seatlock-chain-head"),
                 req.header("x-seatlock-signature")};
  auto parsed = parse_batch(*body, seat, h, now_ms());
  if (auto* rej = std::get_if<Rejection>(&parsed))
    return finish(error_response(rej->status, rej->message, rej->line));
  req.body = std::string();  // the batch holds what is needed; free the raw body now
  writer_.submit_async(
      std::move(std::get<Batch>(parsed)),
      [this, finish = std::move(finish)](const WriteOutcome& o) { finish(answer(o, writer_)); });
}

}  // namespace seatlock::collector
