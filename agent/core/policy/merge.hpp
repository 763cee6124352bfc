#pragma once
// Merging validated policy files in name order, keeping track of where every list entry and
// setting came from so that conflicts are reported in the file and at the place they were
// written. Rules (policy/README.md "Merge rules"):
//   - objects merge key by key; a later file's scalar or replace-list wins;
//   - usb.exceptions, network.allow, network.exceptions accumulate (exact duplicates once);
//   - network.dns, network.ntp, firmware.trusted_keys accumulate as sets;
//   - network.addresses merge per interface; two different addresses for one interface is an error;
//   - usb.allow_classes and firmware.require are replaced as a whole by a later file;
//   - the top-level "$schema" and "comment" describe one file and are not merged.
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/json/locator.hpp"
#include "core/policy/loader.hpp"

namespace seatlock::policy_merge {

using nlohmann::json;

struct FileDoc {
  std::string name;
  json doc;
  const JsonLocator* locator = nullptr;
  std::set<std::string> dropped;  // pointers of entries left out (expired exceptions)
};

struct Origin {
  std::size_t file = 0;  // index into the FileDoc list
  std::string pointer;   // where it was written in that file
};

struct Merged {
  json doc = json::object();
  std::map<std::string, Origin> origins;  // merged pointer -> where it was written
};

Merged merge_documents(const std::vector<FileDoc>& files, std::vector<PolicyDiagnostic>& errors);

// Conflicting entries across the merged document (same device excepted twice differently, one
// ticket with two expiries, a client certificate without its key, ...).
void check_conflicts(const Merged& merged, const std::vector<FileDoc>& files,
                     std::vector<PolicyDiagnostic>& errors);

// A diagnostic placed where the merged value at `merged_ptr` was written.
PolicyDiagnostic diagnostic_at(const Merged& merged, const std::vector<FileDoc>& files,
                               const std::string& merged_ptr, const std::string& message,
                               bool at_key = false);
// "policy.d/50-site.json:9:7 (/usb/exceptions/0)"
std::string describe_origin(const Merged& merged, const std::vector<FileDoc>& files,
                            const std::string& merged_ptr);

}  // namespace seatlock::policy_merge
