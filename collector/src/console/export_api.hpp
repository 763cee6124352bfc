#pragma once
// /api/export and /api/export-manifest (issue 15): exactly the events a console filter selects,
// ascending, no row limit, streamed; then the signed manifest of that download.
//
//   GET /api/export?<filter>&format=csv|ndjson[&export_id=ID]
//     200, chunked, attachment "seatlock-export-<UTC>.<ext>", header X-Export-Id. Events
//     received after the export started are left out (the manifest's as_of_ms). A client may
//     choose ID (16..64 of [A-Za-z0-9_-]) so a plain link can download and then fetch the
//     manifest; a reused ID answers 409.
//   GET /api/export-manifest?id=ID -> the manifest (export_manifest.hpp), once the export has
//     been sent completely; 404 before, or when unknown. Kept in memory for 24 hours (at most
//     256); its facts are also in the `console.export` event of the collector's chain.
//
// Every export is recorded as `console.export` (details: account, address, filter, format,
// export_id, rows, sha256, complete) before the file's last chunk is sent: an export whose
// record failed ends truncated, never as a complete file.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/collector_log.hpp"
#include "console/api.hpp"
#include "router.hpp"
#include "store.hpp"

namespace seatlock::collector::console {

class ExportService {
 public:
  using Clock = std::function<std::int64_t()>;  // ms since the epoch
  // log: signs manifests and records console.export; nullptr (a store without a collector key)
  // answers 501. backlog: bytes a slow client may leave queued before the producer waits.
  ExportService(EventStore& store, audit::CollectorLog* log, Clock now = nullptr,
                std::size_t backlog = 4u << 20);

  // Blocking (runs the whole scan): call it off the I/O threads. Calls `respond` once, early
  // (an error, or the streaming 200), then produces the body into the response's pipe.
  void api_export(const ApiRequest& req, const Respond& respond);
  HttpResponse api_export_manifest(const ApiRequest& req);

 private:
  struct Entry {
    std::int64_t started_ms = 0;
    bool done = false;
    std::string file_name;
    nlohmann::json manifest;
  };
  bool reserve(const std::string& id, std::int64_t now, const std::string& file_name);
  void record(const ApiRequest& req, const nlohmann::json& details, bool complete);

  EventStore& store_;
  audit::CollectorLog* log_;
  Clock now_;
  std::size_t backlog_;
  std::mutex mu_;
  std::map<std::string, Entry> exports_;  // by export id
};

}  // namespace seatlock::collector::console
