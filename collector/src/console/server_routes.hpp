#pragma once
// The console's routes on the collector's server (issue 15, docs/console.md): GET / (to the
// login page), the embedded static files under /console/ (no session needed: they hold no
// data), and the JSON API under /api/: session cookie, role, CSRF and headers are checked here,
// in one place, before any API function runs; the functions themselves run on a small worker
// pool, never on the server's I/O threads.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "audit/collector_log.hpp"
#include "console/api.hpp"
#include "console/auth_api.hpp"
#include "console/export_api.hpp"
#include "console/fleet_api.hpp"
#include "console/worker_pool.hpp"
#include "router.hpp"
#include "store.hpp"

namespace seatlock::collector::console {

inline constexpr std::size_t kMaxApiBody = 64 * 1024;

struct ConsoleConfig {
  FleetApiConfig fleet;
  int workers = 4;         // logins, queries, fleet actions
  int export_workers = 2;  // downloads: each holds its worker until the file is sent
};

class ConsoleRoutes {
 public:
  // store: the console's own connection to the store (reads do not queue behind the ingest
  // writer); export_store: another one for downloads (a long export scan must not hold up the
  // pages); log: the collector's chain (null: logins are refused, nothing could be recorded).
  ConsoleRoutes(EventStore& store, EventStore& export_store, audit::CollectorLog* log,
                const ConsoleConfig& cfg);
  ~ConsoleRoutes();
  void add_routes(Router& router);

 private:
  // An API function: answers through `respond` (at once or, for a download, streaming).
  using Handler = std::function<void(const ApiRequest&, const Caller&, Respond)>;
  struct Endpoint {
    std::string method;  // GET (also HEAD) or POST
    bool admin_only = false;
    Handler handle;
    bool download = false;  // runs on the export pool
  };
  void add_endpoints();
  void page(const HttpRequest& req, const Respond& respond);
  void api(HttpRequest& req, const std::string& peer, Respond respond);

  EventStore& store_;
  ConsoleAuth auth_;
  FleetApi fleet_;
  ExportService export_;
  std::map<std::string, Endpoint> endpoints_;  // by path
  // Last: joined first, while what their jobs use is alive.
  std::unique_ptr<WorkerPool> pool_, export_pool_;
};

}  // namespace seatlock::collector::console
