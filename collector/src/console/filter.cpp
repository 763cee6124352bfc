#include "console/filter.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "core/event/kinds.hpp"
#include "core/util/time.hpp"

namespace seatlock::collector::console {
namespace {

// Parameters that are not conditions but that the callers of parse_filter use.
const std::set<std::string, std::less<>> kPagingParams = {"limit", "after", "format", "export_id"};

std::optional<std::int64_t> parse_time(const std::string& v) {
  if (!v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t ms = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return ms;
  }
  return parse_rfc3339(v);
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool contains_ci(const std::string& hay, const std::string& needle_lower) {
  if (needle_lower.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle_lower.begin(), needle_lower.end(),
                        [](char a, char b) { return lower(a) == b; });
  return it != hay.end();
}

std::string to_lower(std::string s) {
  for (char& c : s) c = lower(c);
  return s;
}

}  // namespace

std::optional<std::string> parse_filter(const std::map<std::string, std::string>& query,
                                        ConsoleFilter& out) {
  out = ConsoleFilter{};
  for (const auto& [name, value] : query) {
    if (kPagingParams.count(name)) continue;
    auto text_param = [&value = value](std::optional<std::string>& slot) {
      if (!value.empty()) slot = value;
    };
    if (name == "from" || name == "to") {
      if (value.empty()) continue;
      auto t = parse_time(value);
      if (!t)
        return name + ": expected RFC 3339 time or milliseconds, got " +
               nlohmann::json(value).dump();
      (name == "from" ? out.since_ms : out.until_ms) = *t;
    } else if (name == "seat") {
      text_param(out.seat);
    } else if (name == "user") {
      text_param(out.user);
    } else if (name == "kind") {
      text_param(out.kind);
    } else if (name == "severity") {
      if (!value.empty() && !severity_from_string(value))
        return "severity: expected info, low, medium, high or critical, got " +
               nlohmann::json(value).dump();
      text_param(out.severity);
    } else if (name == "outcome") {
      text_param(out.outcome);
    } else if (name == "q") {
      text_param(out.text);
    } else {
      return "unknown parameter " + nlohmann::json(name).dump();
    }
  }
  if (out.since_ms && out.until_ms && *out.until_ms < *out.since_ms) return "to: earlier than from";
  return std::nullopt;
}

bool matches_line(const ConsoleFilter& f, const std::string& line) {
  if (f.text && !contains_ci(line, to_lower(*f.text))) return false;
  if (f.outcome) {
    // Cheap test first (canonical lines have no spaces); the parse rules out a nested key.
    if (line.find("\"outcome\":\"" + *f.outcome + "\"") == std::string::npos) return false;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return false;
    auto it = j.find("outcome");
    if (it == j.end() || !it->is_string() || it->get<std::string>() != *f.outcome) return false;
  }
  return true;
}

bool matches(const ConsoleFilter& f, const StoredEvent& e) {
  if (f.seat && e.seat_id != *f.seat) return false;
  if (f.user && e.user_name != *f.user) return false;
  if (f.kind && e.kind != *f.kind) return false;
  if (f.severity && e.severity != *f.severity) return false;
  if (f.since_ms && e.time_ms < *f.since_ms) return false;
  if (f.until_ms && e.time_ms >= *f.until_ms) return false;
  return matches_line(f, e.line);
}

EventFilter store_filter(const ConsoleFilter& f) {
  EventFilter s;
  s.seat = f.seat;
  s.user = f.user;
  s.kind = f.kind;
  s.severity = f.severity;
  s.since_ms = f.since_ms;
  s.until_ms = f.until_ms;
  return s;
}

void scan_matches(EventStore& store, const ConsoleFilter& f,
                  const std::function<bool(const StoredEvent&)>& fn) {
  store.query_keyset(store_filter(f), /*descending=*/false, std::nullopt,
                     [&](const StoredEvent& e) { return matches_line(f, e.line) ? fn(e) : true; });
}

}  // namespace seatlock::collector::console
