#include "console/export_api.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "body_pipe.hpp"
#include "console/export_manifest.hpp"
#include "console/filter.hpp"
#include "core/util/digest.hpp"
#include "output.hpp"
#include "seatlock/version.hpp"

namespace seatlock::collector::console {
namespace {

constexpr std::int64_t kKeepMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxKept = 256;
constexpr std::size_t kPieceBytes = 64 * 1024;  // rows are handed to the pipe in pieces

std::int64_t system_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool valid_id(const std::string& id) {
  if (id.size() < 16 || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

std::string new_id() {
  unsigned char rnd[16];
  if (RAND_bytes(rnd, sizeof rnd) != 1) throw std::runtime_error("export: no randomness");
  return hex_encode(std::string_view(reinterpret_cast<char*>(rnd), sizeof rnd));
}

// "2026-12-02T04:15:00.123Z" -> "20261202T041500Z"
std::string compact_utc(std::int64_t ms) {
  std::string t = format_time(ms), out;
  for (char c : t.substr(0, 19))
    if (c != '-' && c != ':') out += c;
  return out + "Z";
}

}  // namespace

ExportService::ExportService(EventStore& store, audit::CollectorLog* log, Clock now,
                             std::size_t backlog)
    : store_(store), log_(log), now_(now ? std::move(now) : Clock(system_now)), backlog_(backlog) {}

bool ExportService::reserve(const std::string& id, std::int64_t now, const std::string& file_name) {
  std::lock_guard lk(mu_);
  std::erase_if(exports_, [&](const auto& kv) { return kv.second.started_ms < now - kKeepMs; });
  while (exports_.size() >= kMaxKept) {  // the oldest finished one makes room
    auto oldest = exports_.end();
    for (auto it = exports_.begin(); it != exports_.end(); ++it)
      if (it->second.done &&
          (oldest == exports_.end() || it->second.started_ms < oldest->second.started_ms))
        oldest = it;
    if (oldest == exports_.end()) break;
    exports_.erase(oldest);
  }
  if (exports_.size() >= kMaxKept) return false;
  return exports_.try_emplace(id, Entry{now, false, file_name, {}}).second;
}

void ExportService::record(const ApiRequest& req, const nlohmann::json& details, bool complete) {
  audit::CollectorEventInput in;
  in.kind = "console.export";
  in.severity = "info";
  in.outcome = complete ? "exported" : "incomplete";
  in.actor = req.account;
  in.details = details;
  in.details["account"] = req.account;
  in.details["address"] = req.peer;
  in.details["complete"] = complete;
  log_->record(in);
}

void ExportService::api_export(const ApiRequest& req, const Respond& respond) {
  auto fmt_it = req.query.find("format");
  std::string fmt_name = fmt_it == req.query.end() ? "" : fmt_it->second;
  auto format = parse_export_format(fmt_name);
  if (!format)
    return respond(error_response(
        400, "format: expected csv or ndjson, got " + nlohmann::json(fmt_name).dump()));
  std::map<std::string, std::string> conditions = req.query;
  conditions.erase("format");
  std::string id;
  if (auto it = conditions.find("export_id"); it != conditions.end()) {
    id = it->second;
    conditions.erase(it);
    if (!valid_id(id))
      return respond(error_response(400,
                                    "export_id: expected 16 to 64 letters, digits, '-' or "
                                    "'_', got " +
                                        nlohmann::json(id).dump()));
  }
  for (const char* paging : {"limit", "after"})
    if (conditions.count(paging))
      return respond(error_response(
          400, std::string(paging) + ": an export has no paging; it holds every matching event"));
  ConsoleFilter filter;
  if (auto err = parse_filter(conditions, filter)) return respond(error_response(400, *err));
  if (!log_)
    return respond(error_response(
        501, "exports need the collector key (serve --collector-key) to sign their manifest"));
  if (id.empty()) id = new_id();

  const std::int64_t as_of = now_();
  const std::string file_name = "seatlock-export-" + compact_utc(as_of) + "." + fmt_name;
  if (!reserve(id, as_of, file_name))
    return respond(error_response(409, "export_id " + id + " is already in use"));

  auto pipe = std::make_shared<BodyPipe>(backlog_);
  HttpResponse head;
  head.content_type =
      *format == ExportFormat::csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
  head.headers = {{"Content-Disposition", "attachment; filename=\"" + file_name + "\""},
                  {"X-Export-Id", id},
                  {"Cache-Control", "no-store"}};
  head.stream = pipe;
  respond(std::move(head));

  nlohmann::json filter_json(conditions);
  nlohmann::json details = {{"filter", filter_json}, {"format", fmt_name}, {"export_id", id}};
  ExportDigest digest;
  nlohmann::json first, last;
  std::string piece;
  bool client_gone = false;
  auto flush = [&] {
    if (!piece.empty() && !pipe->write(std::move(piece))) client_gone = true;
    piece.clear();
    return !client_gone;
  };
  try {
    if (*format == ExportFormat::csv) {
      piece = csv_header();
      digest.header(piece);
    }
    scan_matches(store_, filter, [&](const StoredEvent& e) {
      if (e.received_ms > as_of) return true;  // arrived after the export began
      std::string row = export_row(*format, e);
      digest.row(row);
      if (first.is_null()) first = row_ref(e);
      last = row_ref(e);
      piece += row;
      return piece.size() < kPieceBytes || flush();
    });
    if (!flush()) {
      details["rows_sent_before_disconnect"] = digest.rows();
      record(req, details, false);
      std::lock_guard lk(mu_);
      exports_.erase(id);
      return;
    }
    const audit::CollectorIdentity& key = log_->identity();
    nlohmann::json manifest = {{"schema", kManifestSchema},
                               {"export_id", id},
                               {"file", file_name},
                               {"format", fmt_name},
                               {"filter", filter_json},
                               {"as_of_ms", as_of},
                               {"rows", digest.rows()},
                               {"bytes", digest.bytes()},
                               {"sha256", digest.sha256()},
                               {"block_rows", kBlockRows},
                               {"blocks", digest.blocks()},
                               {"first", first},
                               {"last", last},
                               {"generated_ms", now_()},
                               {"account", req.account},
                               {"collector",
                                {{"instance", key.instance},
                                 {"chain", key.chain_id()},
                                 {"pubkey", base64_encode(key.raw_public)}}},
                               {"tool", std::string("seatlock-collector ") + kVersion}};
    sign_manifest(manifest, key.raw_private);
    details["rows"] = digest.rows();
    details["sha256"] = digest.sha256();
    record(req, details, true);  // before the last chunk: no complete file without its record
    {
      std::lock_guard lk(mu_);
      Entry& entry = exports_[id];
      entry.manifest = std::move(manifest);
      entry.done = true;
    }
    pipe->finish();
  } catch (const std::exception& ex) {
    pipe->fail(ex.what());
    {
      std::lock_guard lk(mu_);
      exports_.erase(id);
    }
    try {
      details["error"] = ex.what();
      details["rows_sent"] = digest.rows();
      record(req, details, false);
    } catch (const std::exception&) {
      // The collector log itself failed; the truncated transfer already tells the client.
    }
  }
}

HttpResponse ExportService::api_export_manifest(const ApiRequest& req) {
  auto it = req.query.find("id");
  if (it == req.query.end() || it->second.empty())
    return error_response(400, "id: the X-Export-Id of the export is required");
  for (const auto& [name, value] : req.query)
    if (name != "id")
      return error_response(400, "unknown parameter " + nlohmann::json(name).dump());
  std::lock_guard lk(mu_);
  auto e = exports_.find(it->second);
  if (e == exports_.end())
    return error_response(404, "no export " + it->second +
                                   " (unknown, expired after 24 hours, or from before a restart)");
  if (!e->second.done) return error_response(404, "export " + it->second + " is not complete yet");
  HttpResponse r;
  r.body = e->second.manifest.dump(2) + "\n";
  r.headers = {
      {"Content-Disposition", "attachment; filename=\"" + e->second.file_name + ".manifest.json\""},
      {"Cache-Control", "no-store"}};
  return r;
}

}  // namespace seatlock::collector::console
