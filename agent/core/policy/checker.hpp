#pragma once
// Walks one parsed policy file and reports problems at the line and column where the value
// was written. The section validators (validate_*.cpp) are written in terms of these helpers.
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/json/locator.hpp"
#include "core/policy/loader.hpp"

namespace seatlock::policy_check {

using nlohmann::json;

class Checker {
 public:
  Checker(const std::string& file, const JsonLocator& locator,
          std::vector<PolicyDiagnostic>& errors, std::vector<PolicyDiagnostic>& warnings)
      : file_(file), locator_(locator), errors_(errors), warnings_(warnings) {}

  const std::string& file() const { return file_; }
  const JsonLocator& locator() const { return locator_; }

  void error(const std::string& ptr, const std::string& message);         // at the value
  void error_at_key(const std::string& ptr, const std::string& message);  // at the member's key
  void warning(const std::string& ptr, const std::string& message);
  // Where a value starts; falls back to the closest known parent.
  TextPos where(const std::string& ptr, bool at_key = false) const;

  // Checks that `v` is an object with only `allowed` keys and all `required` keys present.
  // Returns false (after reporting) when it is not an object at all.
  bool object(const json& v, const std::string& ptr, std::initializer_list<const char*> allowed,
              std::initializer_list<const char*> required = {});

  // Type checks: report "expected a <type>, got <value>" and return false.
  bool is_string(const json& v, const std::string& ptr);
  bool is_array(const json& v, const std::string& ptr);
  bool is_bool(const json& v, const std::string& ptr);
  bool is_positive_int(const json& v, const std::string& ptr, std::int64_t max);

  // A string checked by a format function (formats.hpp); reports and returns false when bad.
  template <typename F>
  bool string_format(const json& v, const std::string& ptr, F&& check) {
    if (!is_string(v, ptr)) return false;
    std::string problem = check(v.get<std::string>());
    if (problem.empty()) return true;
    error(ptr, problem);
    return false;
  }

  // An array whose items are strings checked by `check`.
  template <typename F>
  void string_array(const json& v, const std::string& ptr, F&& check) {
    if (!is_array(v, ptr)) return;
    for (std::size_t i = 0; i < v.size(); ++i)
      string_format(v[i], ptr + "/" + std::to_string(i), check);
  }

  // Pointers (in this file) of entries left out of the policy (expired exceptions).
  std::set<std::string>& dropped() { return dropped_; }

 private:
  PolicyDiagnostic make(const std::string& ptr, const std::string& message, bool at_key) const;
  const std::string& file_;
  const JsonLocator& locator_;
  std::vector<PolicyDiagnostic>& errors_;
  std::vector<PolicyDiagnostic>& warnings_;
  std::set<std::string> dropped_;
};

// "key" -> closest allowed key within a small edit distance, or "" when none is close.
std::string closest_key(const std::string& key, std::initializer_list<const char*> allowed);

}  // namespace seatlock::policy_check
