// Placeholder until the firmware work lands: reports that the firmware component is not built yet.
#include "daemon/service.hpp"

namespace seatlock {
namespace {
class PendingFirmwareService : public Service {
 public:
  std::string name() const override { return "firmware"; }
  void apply(const Policy&) override {}
  nlohmann::json status() const override { return {{"state", "not-implemented"}}; }
};
}  // namespace

std::unique_ptr<Service> make_firmware_service(DaemonContext&) { return std::make_unique<PendingFirmwareService>(); }

}  // namespace seatlock
