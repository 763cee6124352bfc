#pragma once
// Per-file validation: shape, types, unknown keys and value syntax of one parsed policy file.
// Cross-file rules (conflicts between entries) are checked after the merge (merge.hpp).
#include <nlohmann/json.hpp>

#include "core/policy/checker.hpp"

namespace seatlock::policy_check {

void validate_document(const json& doc, Checker& c, const PolicyLoadOptions& options);
void validate_usb(const json& v, Checker& c, const PolicyLoadOptions& options);
void validate_network(const json& v, Checker& c, const PolicyLoadOptions& options);
void validate_firmware(const json& v, Checker& c);
void validate_report(const json& v, Checker& c);

// `until` of an exception entry at `entry_ptr`: RFC 3339 with offset, and not in the past.
// An expired entry is an error or (options.expired_is_error == false) a warning plus a drop.
void check_until(const json& entry, const std::string& entry_ptr, Checker& c,
                 const PolicyLoadOptions& options);

}  // namespace seatlock::policy_check
