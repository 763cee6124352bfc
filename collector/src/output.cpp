#include "output.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/util/time.hpp"
#include "ingest.hpp"

namespace seatlock::collector {
namespace {

struct LineFields {
  std::string outcome, mode, rule, details;
};

LineFields fields_of(const StoredEvent& e) {
  LineFields f;
  nlohmann::json j;  // stored lines passed ingest's limits; a tampered one is shown empty
  if (parse_json_bounded(e.line, j, kEventJsonLimits) || !j.is_object()) return f;
  f.outcome = j.value("outcome", "");
  f.mode = j.value("mode", "");
  if (j.contains("policy") && j["policy"].is_object()) f.rule = j["policy"].value("rule", "");
  if (j.contains("details"))
    f.details = j["details"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return f;
}

}  // namespace

std::string format_time(std::int64_t ms) {
  return ms ? format_rfc3339_ms(ms) : "-";
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void write_csv_header(std::ostream& out) {
  out << "time,seat,seq,id,kind,severity,user,outcome,mode,rule,details\r\n";
}

void write_csv_row(std::ostream& out, const StoredEvent& e) {
  LineFields f = fields_of(e);
  out << format_time(e.time_ms) << ',' << csv_escape(e.seat_id) << ',' << e.seq << ',' << e.id
      << ',' << csv_escape(e.kind) << ',' << csv_escape(e.severity) << ','
      << csv_escape(e.user_name) << ',' << csv_escape(f.outcome) << ',' << csv_escape(f.mode) << ','
      << csv_escape(f.rule) << ',' << csv_escape(f.details) << "\r\n";
}

void write_table_header(std::ostream& out) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-24s %-16s %8s %-22s %-8s %-12s %-9s %s\n", "TIME", "SEAT",
                "SEQ", "KIND", "SEVERITY", "USER", "OUTCOME", "DETAILS");
  out << buf;
}

void write_table_row(std::ostream& out, const StoredEvent& e) {
  LineFields f = fields_of(e);
  std::string details = f.details.size() > 60 ? f.details.substr(0, 57) + "..." : f.details;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-24s %-16s %8llu %-22s %-8s %-12s %-9s ",
                format_time(e.time_ms).c_str(), e.seat_id.c_str(),
                static_cast<unsigned long long>(e.seq), e.kind.c_str(), e.severity.c_str(),
                e.user_name.empty() ? "-" : e.user_name.c_str(), f.outcome.c_str());
  out << buf << details << "\n";
}

}  // namespace seatlock::collector
