// seats: each seat's last event and heartbeat; seats silent longer than N heartbeat intervals
// are flagged (an agent stopped or cut off from the network must stand out), and so are seats
// that reach the collector but whose batches are refused (with the last refusal's reason).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "audit/collector_log.hpp"
#include "commands.hpp"
#include "core/util/args.hpp"
#include "core/util/time.hpp"
#include "output.hpp"
#include "store_open.hpp"

namespace seatlock::collector {

int cmd_seats(const ArgList& argv, std::ostream& out) {
  auto opts = store_option_names();
  opts.insert({"silent-after", "heartbeat"});
  ArgParser a(argv, opts, {"json"});
  auto store = open_store(store_spec(a), false);
  std::uint64_t silent_after = a.number("silent-after").value_or(3);
  if (silent_after == 0) throw UsageError("--silent-after must be at least 1");
  std::int64_t default_interval = 5 * 60'000;  // policy report.heartbeat default
  if (auto h = a.get("heartbeat")) {
    auto ms = parse_duration_ms(*h);
    if (!ms || *ms <= 0)
      throw UsageError("--heartbeat: expected a duration like 60s or 5m, got \"" + *h + "\"");
    default_interval = *ms;
  }
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();

  nlohmann::json list = nlohmann::json::array();
  char buf[512];
  if (!a.has("json")) {
    std::snprintf(buf, sizeof buf, "%-18s %-24s %-20s %-24s %-9s %9s %-8s %-24s %s\n", "SEAT",
                  "LAST EVENT", "KIND", "LAST HEARTBEAT", "INTERVAL", "LAST SEQ", "FINDINGS",
                  "LAST CONTACT", "STATUS");
    out << buf;
  }
  std::size_t silent_count = 0;
  // Seats that authenticated but had batches refused; a seat with nothing accepted is listed
  // from this alone (it is alive, and the reason is what IT must fix).
  std::map<std::string, SeatRefusal> refused;
  for (SeatRefusal& r : store->refusals()) refused.emplace(r.seat_id, std::move(r));
  std::vector<SeatRecord> seats = store->seats();
  for (const auto& [id, r] : refused)
    if (std::none_of(seats.begin(), seats.end(),
                     [&id = id](const SeatRecord& s) { return s.seat_id == id; })) {
      SeatRecord only_refused;
      only_refused.seat_id = id;
      seats.push_back(only_refused);
    }
  std::sort(seats.begin(), seats.end(),
            [](const SeatRecord& x, const SeatRecord& y) { return x.seat_id < y.seat_id; });
  for (const SeatRecord& s : seats) {
    const SeatRefusal* ref = refused.count(s.seat_id) ? &refused[s.seat_id] : nullptr;
    // A refusal newer than the last accepted batch: the seat is talking, but nothing arrives.
    bool refusing = ref && ref->last_ms >= s.last_received_ms;
    std::int64_t last_contact = std::max(s.last_received_ms, ref ? ref->last_ms : 0);
    // Interval as observed between the last two heartbeats; the configured default otherwise.
    std::int64_t interval =
        (s.last_heartbeat_ms && s.prev_heartbeat_ms && s.last_heartbeat_ms > s.prev_heartbeat_ms)
            ? s.last_heartbeat_ms - s.prev_heartbeat_ms
            : default_interval;
    std::int64_t last_sign = std::max(s.last_heartbeat_ms, s.last_event_ms);
    bool never = last_sign == 0;
    std::int64_t quiet = never ? 0 : now - last_sign;
    // A collector's own chain (collector_log.hpp) has no heartbeat: never flagged silent.
    bool collector_chain = audit::is_collector_chain(s.seat_id);
    bool silent = !collector_chain &&
                  ((never && refusing) ||
                   (!never && quiet > static_cast<std::int64_t>(silent_after) * interval));
    std::size_t findings = 0;
    for (const Finding& f : store->findings(s.seat_id)) findings += f.resolved ? 0 : 1;
    std::string status = never && refusing ? "SILENT (no event accepted)"
                         : never           ? "NO EVENTS (enrolled)"
                         : silent          ? "SILENT " + format_duration(quiet)
                         : collector_chain ? "ok (collector chain)"
                                           : "ok";
    if (refusing)
      status += "; " + std::to_string(ref->count) + " batches refused, last " +
                format_time(ref->last_ms) + ": " + std::to_string(ref->status) + " " + ref->reason;
    if (silent) ++silent_count;
    if (a.has("json")) {
      list.push_back({{"seat", s.seat_id},
                      {"last_event", format_time(s.last_event_ms)},
                      {"last_event_kind", s.last_event_kind},
                      {"last_heartbeat", format_time(s.last_heartbeat_ms)},
                      {"heartbeat_interval_ms", interval},
                      {"last_seq", s.last_seq},
                      {"last_received", format_time(s.last_received_ms)},
                      {"last_contact", format_time(last_contact)},
                      {"last_refusal", ref ? nlohmann::json{{"time", format_time(ref->last_ms)},
                                                            {"status", ref->status},
                                                            {"reason", ref->reason},
                                                            {"count", ref->count}}
                                           : nlohmann::json()},
                      {"open_findings", findings},
                      {"silent", silent},
                      {"silent_for_ms", silent ? quiet : 0}});
    } else {
      std::snprintf(buf, sizeof buf, "%-18s %-24s %-20s %-24s %-9s %9llu %-8zu %-24s ",
                    s.seat_id.c_str(), format_time(s.last_event_ms).c_str(),
                    s.last_event_kind.empty() ? "-" : s.last_event_kind.c_str(),
                    format_time(s.last_heartbeat_ms).c_str(), format_duration(interval).c_str(),
                    static_cast<unsigned long long>(s.last_seq), findings,
                    format_time(last_contact).c_str());
      out << buf << status << "\n";  // the status may quote a long refusal reason
    }
  }
  if (a.has("json"))
    out << list.dump(2) << "\n";
  else
    out << "(" << silent_count << " silent seat" << (silent_count == 1 ? "" : "s")
        << ", silent = no event for more than " << silent_after << " heartbeat intervals)\n";
  return 0;
}

}  // namespace seatlock::collector
