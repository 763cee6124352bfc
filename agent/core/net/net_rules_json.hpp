#pragma once
// Pieces of to_json(NetRules) shared by net_rules.cpp (the JSON tree) and net_rules_text.cpp
// (to_json_text(), which writes the long lists by hand).
#include <nlohmann/json.hpp>
#include <vector>

#include "core/net/net_rules.hpp"

namespace seatlock::net::detail {

// Everything but network.allow, network.inbound and the exceptions (the lists that run to
// thousands).
nlohmann::json small_parts_to_json(const NetRules& rules);
nlohmann::json domain_rules_to_json(const std::vector<DomainRule>& rules);

}  // namespace seatlock::net::detail
