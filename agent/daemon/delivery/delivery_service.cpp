// Placeholder until the delivery work lands: reports that the delivery component is not built yet.
#include "daemon/service.hpp"

namespace seatlock {
namespace {
class PendingDeliveryService : public Service {
 public:
  std::string name() const override { return "delivery"; }
  void apply(const Policy&) override {}
  nlohmann::json status() const override { return {{"state", "not-implemented"}}; }
};
}  // namespace

std::unique_ptr<Service> make_delivery_service(DaemonContext&) { return std::make_unique<PendingDeliveryService>(); }

}  // namespace seatlock
