#include "core/attest/unattested.hpp"

namespace seatlock::attest {

Event unattested_event(const std::string& code, const std::string& reason,
                       const std::string& tcti) {
  Event e = make_event(EventKind::FirmwareUnattested, Outcome::Detected);
  e.details = {{"attested", false}, {"code", code}, {"reason", reason}, {"tcti", tcti}};
  return e;
}

}  // namespace seatlock::attest
