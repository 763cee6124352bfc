// Placeholder until the network work lands: reports that the network component is not built yet.
#include "daemon/service.hpp"

namespace seatlock {
namespace {
class PendingNetworkService : public Service {
 public:
  std::string name() const override { return "network"; }
  void apply(const Policy&) override {}
  nlohmann::json status() const override { return {{"state", "not-implemented"}}; }
};
}  // namespace

std::unique_ptr<Service> make_network_service(DaemonContext&) { return std::make_unique<PendingNetworkService>(); }

}  // namespace seatlock
