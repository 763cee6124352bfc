#pragma once
// The attestation endpoints of `serve` (all Access::seat: the seat is the authenticated one):
//   POST /v1/attest/enroll    POST /v1/attest/activate    GET /v1/attest/challenge
//   POST /v1/attest/quote
// State: AttestStore in "<sqlite db>.attest". With a ClickHouse event store there is no
// default place for it yet: the routes then answer 501 saying so.
#include <memory>
#include <string>
#include <vector>

#include "router.hpp"

namespace seatlock::collector::audit {
class CollectorLog;
}

namespace seatlock::collector::attest {
class AttestStore;
class Attestor;

class AttestEndpoints {
 public:
  // `log`: where verdicts are recorded as `firmware.attested` collector events (besides the
  // AttestStore); nullptr = the AttestStore only.
  AttestEndpoints(const std::string& store_spec, std::vector<std::string> ek_ca_files,
                  audit::CollectorLog* log = nullptr);
  ~AttestEndpoints();
  void add_routes(Router& router);

 private:
  std::unique_ptr<AttestStore> store_;
  std::unique_ptr<Attestor> attestor_;
};

}  // namespace seatlock::collector::attest
