#include "attest/verdict_event.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace seatlock::collector::attest {
namespace {

std::string who_runs_this() {
  if (const char* s = std::getenv("SUDO_USER"); s && *s) return s;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return "uid " + std::to_string(getuid());
}

}  // namespace

audit::CollectorEventInput verdict_event(const std::string& seat, const nlohmann::json& verdict,
                                         std::int64_t verdict_id) {
  audit::CollectorEventInput in;
  in.kind = "firmware.attested";
  std::string result = verdict.value("result", "failed");
  in.outcome = result;
  in.severity = result == "verified" ? "info" : "high";
  in.seats = {seat};
  nlohmann::json d = nlohmann::json::object();
  d["result"] = result;
  d["reasons"] = verdict.value("reasons", nlohmann::json::array());
  d["differences"] = verdict.value("differences", nlohmann::json::array());
  d["proven_by_tpm"] = verdict.contains("measured") ? verdict["measured"] : nlohmann::json();
  d["reported_by_seat"] =
      verdict.contains("reported_by_seat") ? verdict["reported_by_seat"] : nlohmann::json();
  d["ek_cert_status"] = verdict.value("ek_cert_status", "");
  d["attest_verdict_id"] = verdict_id;
  in.details = std::move(d);
  return in;
}

audit::CollectorEventInput admin_event(const std::string& kind, const std::string& seat,
                                       const std::string& ticket, nlohmann::json details) {
  audit::CollectorEventInput in;
  in.kind = kind;
  in.severity = "medium";
  in.outcome = "applied";
  in.actor = who_runs_this();
  in.seats = {seat};
  in.details = details.is_object() ? std::move(details) : nlohmann::json::object();
  in.details["ticket"] = ticket;
  return in;
}

}  // namespace seatlock::collector::attest
