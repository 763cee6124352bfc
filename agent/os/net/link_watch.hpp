#pragma once
// Address, link and route changes in the current network namespace (libnl-route cache
// manager on route/addr, route/link, route/route), reduced to the three things seatlock
// reports: an address appearing/disappearing, a new default route, a new interface.
#include <functional>
#include <string>
#include <vector>

struct nl_cache_mngr;
struct nl_cache;
struct nl_object;

namespace seatlock::net {

struct AddressChange {
  bool added = true;
  std::string interface;
  std::string address;  // "10.1.2.117/24"
  int family = 4;
};
struct RouteChange {
  bool added = true;
  int family = 4;
  std::string gateway;  // "" when the route has no gateway
  std::string interface;
  int table = 254;
};
struct InterfaceAdded {
  std::string interface;
  std::string kind;  // "veth", "dummy", "wireguard", ... ("" for plain devices)
  std::string mac;
  int ifindex = 0;
};

struct LinkWatchHandlers {
  std::function<void(const AddressChange&)> address;
  std::function<void(const RouteChange&)> default_route;
  std::function<void(const InterfaceAdded&)> interface_added;
};

class LinkWatch {
 public:
  explicit LinkWatch(LinkWatchHandlers handlers);  // throws std::runtime_error
  ~LinkWatch();
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;

  int fd() const;
  void on_readable();
  // Current addresses of an interface (for the planned-address check at start).
  std::vector<AddressChange> addresses_of(const std::string& interface) const;

 private:
  static void on_change(nl_cache* cache, ::nl_object* obj, int action, void* self);
  std::string ifname(int ifindex) const;
  LinkWatchHandlers handlers_;
  nl_cache_mngr* mngr_ = nullptr;
  nl_cache* links_ = nullptr;
  nl_cache* addrs_ = nullptr;
  nl_cache* routes_ = nullptr;
};

}  // namespace seatlock::net
