// Small shared definitions of the policy model (policy.hpp, loader.hpp).
#include "core/policy/loader.hpp"

namespace seatlock {

const char* to_string(Mode m) {
  return m == Mode::Enforce ? "enforce" : "audit";
}

std::string PolicyDiagnostic::text() const {
  std::string out = file;
  if (!file.empty() && line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  if (!out.empty()) out += ": ";
  if (!pointer.empty()) out += pointer + ": ";
  return out + message;
}

}  // namespace seatlock
