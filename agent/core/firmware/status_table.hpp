#pragma once
// Human-readable rendering of an attestation (the JSON of to_json(Attestation)) for
// `seatlockctl firmware status`.
#include <nlohmann/json.hpp>
#include <string>

namespace seatlock::firmware {

std::string format_status_table(const nlohmann::json& attestation);

}  // namespace seatlock::firmware
