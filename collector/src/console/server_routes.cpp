#include "console/server_routes.hpp"

#include <chrono>
#include <cstdio>

#include "console/assets.hpp"
#include "console/csrf.hpp"
#include "console/query_api.hpp"
#include "console/security_headers.hpp"

namespace seatlock::collector::console {
namespace {

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Every console answer leaves with the security headers.
Respond with_headers(Respond respond, bool api) {
  return [respond = std::move(respond), api](HttpResponse r) {
    add_security_headers(r, api);
    respond(std::move(r));
  };
}

// A synchronous API function as a Handler.
template <typename Fn>
auto sync(Fn fn) {
  return
      [fn](const ApiRequest& req, const Caller& c, const Respond& respond) { respond(fn(req, c)); };
}

}  // namespace

ConsoleRoutes::ConsoleRoutes(EventStore& store, EventStore& export_store, audit::CollectorLog* log,
                             const ConsoleConfig& cfg)
    : store_(store),
      auth_(store, log, wall_ms),
      fleet_(store, cfg.fleet),
      export_(export_store, log),
      pool_(std::make_unique<WorkerPool>(cfg.workers)),
      export_pool_(std::make_unique<WorkerPool>(cfg.export_workers)) {
  add_endpoints();
}

ConsoleRoutes::~ConsoleRoutes() {
  export_pool_.reset();
  pool_.reset();
}

void ConsoleRoutes::add_endpoints() {
  endpoints_["/api/me"] = {
      "GET", false, sync([this](const ApiRequest&, const Caller& c) { return auth_.me(c); })};
  endpoints_["/api/me/lang"] = {"POST", false, sync([this](const ApiRequest& r, const Caller& c) {
                                  Caller copy = c;
                                  return auth_.set_lang(copy, r.body);
                                })};
  endpoints_["/api/logout"] = {"POST", false, sync([this](const ApiRequest& r, const Caller& c) {
                                 return auth_.logout(c, r.peer);
                               })};
  // The read APIs (query_api.hpp).
  using ReadApi = HttpResponse (*)(EventStore&, const ApiRequest&);
  for (auto [path, fn] : {std::pair<const char*, ReadApi>{"/api/events", api_events},
                          {"/api/event", api_event},
                          {"/api/seats", api_seats},
                          {"/api/seat", api_seat},
                          {"/api/person", api_person}})
    endpoints_[path] = {"GET", false, sync([this, fn = fn](const ApiRequest& r, const Caller&) {
                          return fn(store_, r);
                        })};
  endpoints_["/api/overview"] = {"GET", false, sync([this](const ApiRequest& r, const Caller&) {
                                   return api_overview(store_, r, fleet_.behind_seats());
                                 })};
  endpoints_["/api/export"] = {"GET", false,
                               [this](const ApiRequest& r, const Caller&, const Respond& respond) {
                                 export_.api_export(r, respond);
                               },
                               /*download=*/true};
  endpoints_["/api/export-manifest"] = {
      "GET", false,
      sync([this](const ApiRequest& r, const Caller&) { return export_.api_export_manifest(r); })};
  endpoints_["/api/fleet"] = {
      "GET", false, sync([this](const ApiRequest& r, const Caller&) { return fleet_.get(r); })};
  endpoints_["/api/fleet/net"] = {
      "POST", true, sync([this](const ApiRequest& r, const Caller&) { return fleet_.net(r); })};
}

void ConsoleRoutes::add_routes(Router& router) {
  auto page_route = [this](const std::string& path, bool prefix) {
    Route r;
    r.method = "GET";
    r.path = path;
    r.prefix = prefix;
    r.access = Access::open;
    r.handle = [this](HttpRequest& req, const std::string&, const std::string&, Respond respond) {
      page(req, with_headers(std::move(respond), false));
    };
    return r;
  };
  router.add(page_route("/", false));
  router.add(page_route("/console", true));  // "/console", "/console/", "/console/x.js"
  for (const char* method : {"GET", "POST"}) {
    Route r;
    r.method = method;
    r.path = "/api/";
    r.prefix = true;
    r.access = Access::open;  // the session is checked by api(), with the console's answers
    r.max_body = std::string(method) == "POST" ? kMaxApiBody : 0;
    r.handle = [this](HttpRequest& req, const std::string&, const std::string& peer,
                      Respond respond) { api(req, peer, with_headers(std::move(respond), true)); };
    router.add(std::move(r));
  }
}

void ConsoleRoutes::page(const HttpRequest& req, const Respond& respond) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (path == "/") {
    HttpResponse r;
    r.status = 302;
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Location", "/console/");
    return respond(std::move(r));
  }
  const Asset* a = find_asset(path);
  if (!a) return respond(error_response(404, "no such page: " + path));
  HttpResponse r;
  r.content_type = std::string(a->content_type);
  r.body = std::string(a->body);
  respond(std::move(r));
}

void ConsoleRoutes::api(HttpRequest& req, const std::string& peer, Respond respond) {
  std::string path = req.target.substr(0, req.target.find('?'));
  std::string method = req.method == "HEAD" ? "GET" : req.method;
  if (path == "/api/login") {
    if (method != "POST") {
      HttpResponse r = error_response(405, "use POST /api/login");
      r.headers.emplace_back("Allow", "POST");
      return respond(std::move(r));
    }
    return pool_->submit([this, req = std::move(req), peer, respond = std::move(respond)] {
      respond(auth_.login(req, peer));
    });
  }
  auto it = endpoints_.find(path);
  if (it == endpoints_.end()) return respond(error_response(404, "no such endpoint: " + path));
  const Endpoint& ep = it->second;
  if (ep.method != method) {
    HttpResponse r = error_response(405, "use " + ep.method + " " + path);
    r.headers.emplace_back("Allow", ep.method);
    return respond(std::move(r));
  }
  std::optional<Caller> caller = auth_.caller(req);
  if (!caller) return respond(error_response(401, "not logged in (or the session expired)"));
  if (method == "POST" && (!origin_ok(req) || !csrf_token_ok(req, caller->session_id)))
    return respond(error_response(403, "CSRF token missing or wrong"));

  ApiRequest ar;
  ar.method = method;
  ar.path = path;
  ar.query = parse_query(req.target);
  ar.body = std::move(req.body);
  ar.peer = peer;
  WorkerPool& pool = ep.download ? *export_pool_ : *pool_;
  pool.submit([this, &ep, ar = std::move(ar), c = std::move(*caller),
               respond = std::move(respond)]() mutable {
    try {
      if (!auth_.check_account(c))
        return respond(error_response(401, "this account was disabled or removed"));
      if (ep.admin_only && c.role != "admin")
        return respond(error_response(403, "this needs an admin account; you are " + c.role));
      ar.account = c.account;
      ar.role = c.role;
      ar.lang = c.lang;
      ep.handle(ar, c, respond);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "seatlock-collector: %s %s %s: %s\n", ar.peer.c_str(), ar.method.c_str(),
                   ar.path.c_str(), e.what());
      respond(error_response(500, e.what()));
    }
  });
}

}  // namespace seatlock::collector::console
