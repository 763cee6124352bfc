#include "handler.hpp"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/util/digest.hpp"
#include "gzip.hpp"

namespace seatlock::collector {
namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void log_line(const std::string& peer, const std::string& what) {
  std::fprintf(stderr, "seatlock-collector: %s: %s\n", peer.c_str(), what.c_str());
}

}  // namespace

std::optional<std::string> RequestHandler::authenticate(const HttpRequest& req,
                                                        const std::optional<std::string>& peer_cn,
                                                        HttpResponse& error) {
  std::optional<std::string> cert_seat = mode_ == AuthMode::tokens_only ? std::nullopt : peer_cn;
  std::optional<std::string> token_seat;
  std::string auth = req.header("authorization");
  if (!auth.empty()) {
    if (auth.rfind("Bearer ", 0) != 0) {
      error = error_response(401, "Authorization: expected \"Bearer <enrollment token>\"");
      return std::nullopt;
    }
    token_seat = store_.seat_for_token(sha256_hex(auth.substr(7)));
    if (!token_seat) {
      error = error_response(401, "unknown or revoked enrollment token");
      return std::nullopt;
    }
  }
  if (cert_seat && token_seat && *cert_seat != *token_seat) {
    error = error_response(403, "client certificate is for seat \"" + *cert_seat +
                                    "\" but the token is for seat \"" + *token_seat + "\"");
    return std::nullopt;
  }
  if (cert_seat) return cert_seat;
  if (token_seat) return token_seat;
  error = error_response(
      401, mode_ == AuthMode::tokens_only
               ? "an enrollment token is required (Authorization: Bearer <token>)"
               : "a client certificate signed by the seats CA or an enrollment token is required");
  error.headers.emplace_back("WWW-Authenticate", "Bearer");
  return std::nullopt;
}

Admission RequestHandler::admit(const HttpRequest& req, const std::optional<std::string>& peer_cn,
                                const std::string& peer) {
  Admission a;
  std::string path = req.target.substr(0, req.target.find('?'));
  if (path == "/healthz") {
    a.response = req.method == "GET" || req.method == "HEAD"
                     ? HttpResponse{200, R"({"status":"ok"})", {}}
                     : error_response(405, "use GET /healthz");
    return a;
  }
  if (path != "/v1/events") {
    a.response = error_response(404, "no such endpoint: " + path);
    return a;
  }
  if (req.method != "POST") {
    a.response = error_response(405, "use POST /v1/events");
    a.response.headers.emplace_back("Allow", "POST");
    return a;
  }
  auto seat = authenticate(req, peer_cn, a.response);
  if (!seat) {
    log_line(peer, std::to_string(a.response.status) + " " + a.response.body);
    return a;
  }
  a.read_body = true;
  a.seat = *seat;
  return a;
}

HttpResponse RequestHandler::handle(const HttpRequest& req, const std::string& seat,
                                    const std::string& peer) {
  HttpResponse r = post_events(req, seat);
  if (r.status != 200) log_line(peer + " seat " + seat, std::to_string(r.status) + " " + r.body);
  if (r.status >= 400 && r.status < 500) note_refusal(seat, r);
  return r;
}

// A seat whose batches are all refused must still show up in `seats` (not as "never seen").
void RequestHandler::note_refusal(const std::string& seat, const HttpResponse& refusal) {
  auto j = nlohmann::json::parse(refusal.body, nullptr, false);  // our own error_response()
  std::string why = j.is_object() ? j.value("error", refusal.body) : refusal.body;
  writer_.note_refusal(seat, refusal.status, why, now_ms());
}

HttpResponse RequestHandler::post_events(const HttpRequest& req, const std::string& seat) {
  std::string enc = req.header("content-encoding");
  std::string inflated;
  const std::string* body = &req.body;
  if (enc == "gzip" || enc == "x-gzip") {
    switch (gunzip(req.body, inflated, kMaxBodyBytes)) {
      case GunzipResult::ok:
        break;
      case GunzipResult::too_large:
        return error_response(413, "uncompressed body exceeds 1 MiB; split the batch");
      case GunzipResult::corrupt:
        return error_response(400, "Content-Encoding: gzip but the body is not valid gzip");
    }
    body = &inflated;
  } else if (!enc.empty() && enc != "identity") {
    return error_response(415, "Content-Encoding: expected gzip or identity, got \"" + enc + "\"");
  }
  if (body->size() > kMaxBodyBytes)
    return error_response(413, "body exceeds 1 MiB; split the batch");

  BatchHeaders h{req.header("x-seatlock-key"), req.header("x-seatlock-chain-head"),
                 req.header("x-seatlock-signature")};
  auto parsed = parse_batch(*body, seat, h, now_ms());
  if (auto* rej = std::get_if<Rejection>(&parsed))
    return error_response(rej->status, rej->message, rej->line);

  WriteOutcome o = writer_.submit(std::move(std::get<Batch>(parsed)));
  switch (o.kind) {
    case WriteOutcome::Kind::applied: {
      nlohmann::json j = {{"stored", o.applied.stored},
                          {"duplicates", o.applied.duplicates},
                          {"last_seq", o.applied.last_seq}};
      return HttpResponse{200, j.dump(), {}};
    }
    case WriteOutcome::Kind::rejected:
      return error_response(o.rejection.status, o.rejection.message, o.rejection.line);
    case WriteOutcome::Kind::overloaded: {
      auto r = error_response(503, "collector busy; retry later");
      r.headers.emplace_back("Retry-After", "2");
      return r;
    }
    case WriteOutcome::Kind::failed:
      break;
  }
  auto r = error_response(503, "store error: " + o.error);
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

}  // namespace seatlock::collector
