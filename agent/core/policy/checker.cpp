#include "core/policy/checker.hpp"

#include <algorithm>

#include "core/policy/formats.hpp"

namespace seatlock::policy_check {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string parent_of(const std::string& ptr) {
  std::size_t slash = ptr.rfind('/');
  return slash == std::string::npos ? "" : ptr.substr(0, slash);
}

}  // namespace

std::string closest_key(const std::string& key, std::initializer_list<const char*> allowed) {
  std::string best;
  std::size_t best_d = 3;  // at most two edits
  for (const char* k : allowed) {
    std::size_t d = edit_distance(key, k);
    if (d < best_d && d <= std::max<std::size_t>(1, std::string(k).size() / 3))
      best = k, best_d = d;
  }
  return best;
}

TextPos Checker::where(const std::string& ptr, bool at_key) const {
  if (at_key)
    if (auto k = locator_.key(ptr)) return *k;
  for (std::string p = ptr;; p = parent_of(p)) {
    if (auto v = locator_.value(p)) return *v;
    if (p.empty()) return {};
  }
}

PolicyDiagnostic Checker::make(const std::string& ptr, const std::string& message,
                               bool at_key) const {
  TextPos pos = where(ptr, at_key);
  return PolicyDiagnostic{file_, pos.line, pos.column, ptr, message};
}

void Checker::error(const std::string& ptr, const std::string& message) {
  errors_.push_back(make(ptr, message, false));
}

void Checker::error_at_key(const std::string& ptr, const std::string& message) {
  errors_.push_back(make(ptr, message, true));
}

void Checker::warning(const std::string& ptr, const std::string& message) {
  warnings_.push_back(make(ptr, message, false));
}

bool Checker::object(const json& v, const std::string& ptr,
                     std::initializer_list<const char*> allowed,
                     std::initializer_list<const char*> required) {
  if (!v.is_object()) {
    error(ptr, "expected an object, got " + policy_format::describe(v));
    return false;
  }
  for (const auto& item : v.items()) {
    const std::string& key = item.key();  // no structured binding: clang 14 cannot capture one
    bool known =
        std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; });
    if (known) continue;
    std::string hint = closest_key(key, allowed);
    std::string message = "unknown key";
    if (!hint.empty()) {
      message += " (did you mean \"" + hint + "\"?)";
    } else {
      message += "; expected one of";
      const char* sep = " ";
      for (const char* k : allowed) message += sep + std::string(k), sep = ", ";
    }
    error_at_key(ptr + "/" + json_pointer_escape(key), message);
  }
  for (const char* k : required)
    if (!v.contains(k)) error(ptr, "missing required key \"" + std::string(k) + "\"");
  return true;
}

bool Checker::is_string(const json& v, const std::string& ptr) {
  if (v.is_string()) return true;
  error(ptr, "expected a string, got " + policy_format::describe(v));
  return false;
}

bool Checker::is_array(const json& v, const std::string& ptr) {
  if (v.is_array()) return true;
  error(ptr, "expected an array, got " + policy_format::describe(v));
  return false;
}

bool Checker::is_bool(const json& v, const std::string& ptr) {
  if (v.is_boolean()) return true;
  error(ptr, "expected true or false, got " + policy_format::describe(v));
  return false;
}

bool Checker::is_positive_int(const json& v, const std::string& ptr, std::int64_t max) {
  if (v.is_number_integer() && v.get<std::int64_t>() >= 1 && v.get<std::int64_t>() <= max)
    return true;
  error(ptr,
        "expected an integer 1-" + std::to_string(max) + ", got " + policy_format::describe(v));
  return false;
}

}  // namespace seatlock::policy_check
