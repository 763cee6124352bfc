// Placeholder until the usb work lands: reports that the usb component is not built yet.
#include "daemon/service.hpp"

namespace seatlock {
namespace {
class PendingUsbService : public Service {
 public:
  std::string name() const override { return "usb"; }
  void apply(const Policy&) override {}
  nlohmann::json status() const override { return {{"state", "not-implemented"}}; }
};
}  // namespace

std::unique_ptr<Service> make_usb_service(DaemonContext&) { return std::make_unique<PendingUsbService>(); }

}  // namespace seatlock
