#pragma once
// Pieces the console's query APIs share: JSON answers, parameter checks, the row shape of an
// event in a list.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http.hpp"
#include "store.hpp"

namespace seatlock::collector::console {

HttpResponse json_response(const nlohmann::json& body, int status = 200);

// 400 "unknown parameter \"x\"" for a name not in `allowed`; nullopt when all are known.
std::optional<HttpResponse> reject_unknown(const std::map<std::string, std::string>& query,
                                           std::initializer_list<std::string_view> allowed);

// An integer parameter within [lo, hi]; `fallback` when absent or empty. On error `err` is set
// to a 400 naming the parameter.
std::optional<std::int64_t> int_param(const std::map<std::string, std::string>& query,
                                      const std::string& name, std::int64_t lo, std::int64_t hi,
                                      std::int64_t fallback, std::optional<HttpResponse>& err);

// The value of a required parameter, or a 400 in `err`.
std::optional<std::string> required_param(const std::map<std::string, std::string>& query,
                                          const std::string& name,
                                          std::optional<HttpResponse>& err);

// {"id","seat","seq","time_ms","kind","severity","user","outcome","summary"}.
nlohmann::json event_row(const StoredEvent& e);

// A short human text from an event's details ("Kingston DataTraveler (0951:1666)", "a=1 b=2").
std::string event_summary(const nlohmann::json& event);

}  // namespace seatlock::collector::console
