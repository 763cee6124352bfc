#include "os/net/link_watch.hpp"

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <cstring>
#include <stdexcept>

namespace seatlock::net {

namespace {

std::string addr_text(nl_addr* a) {
  if (!a) return "";
  char buf[128];
  return nl_addr2str(a, buf, sizeof buf);
}

// nl_addr2str prints "10.0.0.1/32" for a host address; we want the prefix of the object.
std::string without_prefix(const std::string& s) {
  return s.substr(0, s.find('/'));
}

}  // namespace

LinkWatch::LinkWatch(LinkWatchHandlers handlers) : handlers_(std::move(handlers)) {
  if (int err = nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &mngr_); err < 0)
    throw std::runtime_error(std::string("link watch: ") + nl_geterror(err));
  auto add = [&](const char* name, nl_cache** out) {
    if (int err = nl_cache_mngr_add(mngr_, name, &LinkWatch::on_change, this, out); err < 0) {
      nl_cache_mngr_free(mngr_);
      mngr_ = nullptr;
      throw std::runtime_error(std::string("link watch: ") + name + ": " + nl_geterror(err));
    }
  };
  add("route/link", &links_);
  add("route/addr", &addrs_);
  add("route/route", &routes_);
}

LinkWatch::~LinkWatch() {
  if (mngr_) nl_cache_mngr_free(mngr_);
}

int LinkWatch::fd() const {
  return nl_cache_mngr_get_fd(mngr_);
}

void LinkWatch::on_readable() {
  nl_cache_mngr_data_ready(mngr_);
}

std::string LinkWatch::ifname(int ifindex) const {
  char buf[64] = "";
  if (links_ && rtnl_link_i2name(links_, ifindex, buf, sizeof buf)) return buf;
  return "if" + std::to_string(ifindex);
}

std::vector<AddressChange> LinkWatch::addresses_of(const std::string& interface) const {
  std::vector<AddressChange> out;
  for (nl_object* o = nl_cache_get_first(addrs_); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (ifname(rtnl_addr_get_ifindex(a)) != interface) continue;
    nl_addr* local = rtnl_addr_get_local(a);
    out.push_back(
        {true, interface,
         without_prefix(addr_text(local)) + "/" + std::to_string(rtnl_addr_get_prefixlen(a)),
         rtnl_addr_get_family(a) == AF_INET6 ? 6 : 4});
  }
  return out;
}

void LinkWatch::on_change(nl_cache*, nl_object* obj, int action, void* arg) {
  auto* self = static_cast<LinkWatch*>(arg);
  std::string type = nl_object_get_type(obj);
  if (type == "route/addr" && (action == NL_ACT_NEW || action == NL_ACT_DEL)) {
    auto* a = reinterpret_cast<rtnl_addr*>(obj);
    AddressChange c;
    c.added = action == NL_ACT_NEW;
    c.family = rtnl_addr_get_family(a) == AF_INET6 ? 6 : 4;
    c.interface = self->ifname(rtnl_addr_get_ifindex(a));
    c.address = without_prefix(addr_text(rtnl_addr_get_local(a))) + "/" +
                std::to_string(rtnl_addr_get_prefixlen(a));
    if (self->handlers_.address) self->handlers_.address(c);
  } else if (type == "route/route" && (action == NL_ACT_NEW || action == NL_ACT_DEL)) {
    auto* r = reinterpret_cast<rtnl_route*>(obj);
    nl_addr* dst = rtnl_route_get_dst(r);
    if (dst && nl_addr_get_prefixlen(dst) != 0) return;  // only default routes
    if (rtnl_route_get_type(r) != RTN_UNICAST) return;
    RouteChange c;
    c.added = action == NL_ACT_NEW;
    c.family = rtnl_route_get_family(r) == AF_INET6 ? 6 : 4;
    c.table = int(rtnl_route_get_table(r));
    if (rtnl_route_get_nnexthops(r) > 0) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
      c.gateway = without_prefix(addr_text(rtnl_route_nh_get_gateway(nh)));
      c.interface = self->ifname(rtnl_route_nh_get_ifindex(nh));
    }
    if (self->handlers_.default_route) self->handlers_.default_route(c);
  } else if (type == "route/link" && action == NL_ACT_NEW) {
    auto* l = reinterpret_cast<rtnl_link*>(obj);
    InterfaceAdded c;
    c.ifindex = rtnl_link_get_ifindex(l);
    if (const char* n = rtnl_link_get_name(l)) c.interface = n;
    if (const char* k = rtnl_link_get_type(l)) c.kind = k;
    c.mac = addr_text(rtnl_link_get_addr(l));
    if (self->handlers_.interface_added) self->handlers_.interface_added(c);
  }
}

}  // namespace seatlock::net
