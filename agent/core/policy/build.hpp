#pragma once
// From the merged, validated policy document to the Policy value components consume.
#include <nlohmann/json.hpp>

#include "core/policy/merge.hpp"
#include "core/policy/policy.hpp"

namespace seatlock::policy_build {

// The built-in defaults as a policy document (what an absent key means).
nlohmann::json default_document();

// `merged` overlaid on the defaults: the effective document (`policy show`, `sha256`).
nlohmann::json effective_document(const nlohmann::json& merged);

// Fills every section from an effective document that has passed validation. `origins` gives
// each exception's source file name.
Policy build_policy(const nlohmann::json& effective, const policy_merge::Merged& merged,
                    const std::vector<policy_merge::FileDoc>& files);

}  // namespace seatlock::policy_build
