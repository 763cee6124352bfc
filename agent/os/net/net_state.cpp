#include "os/net/net_state.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/net/fallback_file.hpp"
#include "os/base/atomic_file.hpp"
#include "os/net/dhcp_leases.hpp"

namespace seatlock::net {

namespace {

std::string closed_path(const std::string& state_dir) {
  return state_dir + "/net-closed";
}

// Both files are read back by seatlockd at start; 0600 like the rest of the state dir.
void write_atomic(const std::string& path, const std::string& text) {
  atomic_write(path, text, 0600);
}

}  // namespace

bool read_closed_flag(const std::string& state_dir) {
  return ::access(closed_path(state_dir).c_str(), F_OK) == 0;
}

void write_closed_flag(const std::string& state_dir, bool closed) {
  if (closed) {
    write_atomic(closed_path(state_dir), "closed by seatlockctl net close\n");
  } else if (::unlink(closed_path(state_dir).c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("cannot remove " + closed_path(state_dir) + ": " +
                             std::strerror(errno));
  }
}

std::string fallback_file_path(const std::string& state_dir) {
  return state_dir + "/" + kFallbackFileName;
}

void write_fallback_file(const std::string& state_dir, const std::string& text) {
  write_atomic(fallback_file_path(state_dir), text);
}

std::optional<std::string> read_fallback_file(const std::string& state_dir) {
  std::ifstream in(fallback_file_path(state_dir));
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> resolve_collector(const std::string& url) {
  auto target = parse_collector_url(url);
  if (!target) return {};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(target->host.c_str(), nullptr, &hints, &res) != 0) return {};
  std::set<std::string> out;
  for (addrinfo* a = res; a; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN];
    const void* src =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
        inet_ntop(a->ai_family, src, buf, sizeof buf))
      out.insert(buf);
  }
  freeaddrinfo(res);
  return {out.begin(), out.end()};
}

NetRules rules_for_policy(const Policy& policy, UserDirectory& users,
                          std::optional<Mode> mode_override, bool closed,
                          const std::string& lease_root) {
  auto uids = resolve_exception_uids(policy.network, users);
  return make_net_rules(policy, uids, resolve_collector(policy.report.collector), mode_override,
                        closed, dhcp_lease_servers(lease_root));
}

}  // namespace seatlock::net
