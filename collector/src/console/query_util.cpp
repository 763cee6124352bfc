#include "console/query_util.hpp"

#include <charconv>

namespace seatlock::collector::console {

HttpResponse json_response(const nlohmann::json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::optional<HttpResponse> reject_unknown(const std::map<std::string, std::string>& query,
                                           std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : query) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) return error_response(400, "unknown parameter " + nlohmann::json(name).dump());
  }
  return std::nullopt;
}

std::optional<std::int64_t> int_param(const std::map<std::string, std::string>& query,
                                      const std::string& name, std::int64_t lo, std::int64_t hi,
                                      std::int64_t fallback, std::optional<HttpResponse>& err) {
  auto it = query.find(name);
  if (it == query.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi) {
    err = error_response(400, name + ": expected an integer from " + std::to_string(lo) + " to " +
                                  std::to_string(hi) + ", got " + nlohmann::json(v).dump());
    return std::nullopt;
  }
  return n;
}

std::optional<std::string> required_param(const std::map<std::string, std::string>& query,
                                          const std::string& name,
                                          std::optional<HttpResponse>& err) {
  auto it = query.find(name);
  if (it == query.end() || it->second.empty()) {
    err = error_response(400, name + ": required");
    return std::nullopt;
  }
  return it->second;
}

std::string event_summary(const nlohmann::json& event) {
  auto d = event.find("details");
  if (d == event.end() || !d->is_object()) return "";
  auto str = [&](const char* key) -> std::string {
    auto it = d->find(key);
    return it != d->end() && it->is_string() ? it->get<std::string>() : "";
  };
  // USB devices: maker, product and ids.
  if (d->contains("vid") || d->contains("product")) {
    std::string s = str("manufacturer");
    std::string product = str("product");
    if (!product.empty()) s += (s.empty() ? "" : " ") + product;
    std::string vid = str("vid"), pid = str("pid");
    if (!vid.empty()) s += (s.empty() ? "(" : " (") + vid + ":" + pid + ")";
    if (!s.empty()) return s;
  }
  // Anything else: its scalar facts, in key order, cut at ~100 characters.
  std::string s;
  for (const auto& [k, v] : d->items()) {
    if (v.is_object() || v.is_array() || v.is_null()) continue;
    std::string item = k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    if (!s.empty()) s += ' ';
    s += item;
    if (s.size() > 100) {
      std::size_t cut = 100;  // not inside a UTF-8 sequence
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      s.resize(cut);
      s += "…";
      break;
    }
  }
  return s;
}

nlohmann::json event_row(const StoredEvent& e) {
  auto line = nlohmann::json::parse(e.line, nullptr, /*allow_exceptions=*/false);
  std::string outcome;
  if (line.is_object())
    if (auto it = line.find("outcome"); it != line.end() && it->is_string())
      outcome = it->get<std::string>();
  return {{"id", e.id},
          {"seat", e.seat_id},
          {"seq", e.seq},
          {"time_ms", e.time_ms},
          {"kind", e.kind},
          {"severity", e.severity},
          {"user", e.user_name},
          {"outcome", outcome},
          {"summary", line.is_object() ? event_summary(line) : ""}};
}

}  // namespace seatlock::collector::console
