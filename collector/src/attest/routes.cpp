#include "attest/routes.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "attest/attestor.hpp"
#include "attest/tpm_keys.hpp"

namespace seatlock::collector::attest {
namespace {

constexpr std::size_t kMaxEnrollBody = 64 * 1024;  // EK certificate + two public areas
constexpr std::size_t kMaxQuoteBody = 1 << 20;     // event logs of real firmware: ~20-100 KiB

using Handler = std::function<HttpResponse(const std::string& seat, const nlohmann::json& req)>;

Route make_route(const char* method, const char* path, std::size_t max_body, Handler h) {
  Route r;
  r.method = method;
  r.path = path;
  r.access = Access::seat;
  r.max_body = max_body;
  r.handle = [h = std::move(h), path](HttpRequest& req, const std::string& seat,
                                      const std::string& peer, const Respond& respond) {
    HttpResponse out;
    try {
      auto body = req.body.empty() ? nlohmann::json::object()
                                   : nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded())
        out = error_response(400, "body is not JSON");
      else
        out = h(seat, body);
    } catch (const AttestForbidden& e) {
      out = error_response(403, e.what());
    } catch (const AttestError& e) {
      out = error_response(400, e.what());
    } catch (const std::exception& e) {
      out = error_response(500, std::string("attestation: ") + e.what());
    }
    if (out.status != 200)
      std::fprintf(stderr, "seatlock-collector: %s seat %s %s: %d %s\n", peer.c_str(), seat.c_str(),
                   path, out.status, out.body.c_str());
    respond(std::move(out));
  };
  return r;
}

HttpResponse ok(const nlohmann::json& j) {
  return HttpResponse{200, j.dump(), {}};
}

}  // namespace

AttestEndpoints::AttestEndpoints(const std::string& store_spec,
                                 std::vector<std::string> ek_ca_files, audit::CollectorLog* log) {
  std::string path = attest_db_path(store_spec);
  if (path.empty()) return;
  store_ = std::make_unique<AttestStore>(path);
  AttestConfig cfg;
  cfg.ek_ca_files = std::move(ek_ca_files);
  attestor_ = std::make_unique<Attestor>(*store_, std::move(cfg), log);
}

AttestEndpoints::~AttestEndpoints() = default;

void AttestEndpoints::add_routes(Router& router) {
  Attestor* a = attestor_.get();
  auto guarded = [a](auto f) {
    return [a, f](const std::string& seat, const nlohmann::json& req) -> HttpResponse {
      if (!a)
        return error_response(501,
                              "remote attestation needs a SQLite collector store for now "
                              "(its state lives in <db>.attest)");
      return f(*a, seat, req);
    };
  };
  router.add(make_route("POST", "/v1/attest/enroll", kMaxEnrollBody,
                        guarded([](Attestor& at, const std::string& s, const nlohmann::json& r) {
                          return ok(at.enroll(s, r));
                        })));
  router.add(make_route("POST", "/v1/attest/activate", 4096,
                        guarded([](Attestor& at, const std::string& s, const nlohmann::json& r) {
                          auto res = at.activate(s, r);
                          if (res.status != 200) return error_response(res.status, res.message);
                          return ok({{"pinned", true}, {"message", res.message}});
                        })));
  router.add(make_route("GET", "/v1/attest/challenge", 0,
                        guarded([](Attestor& at, const std::string& s, const nlohmann::json&) {
                          return ok(at.challenge(s));
                        })));
  router.add(make_route("POST", "/v1/attest/quote", kMaxQuoteBody,
                        guarded([](Attestor& at, const std::string& s, const nlohmann::json& r) {
                          return ok(at.quote(s, r));
                        })));
}

}  // namespace seatlock::collector::attest
