#include "os/net/dhcp_leases.hpp"

#include <arpa/inet.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace seatlock::net {

namespace {

constexpr std::size_t kMaxServers = 64;
constexpr std::uintmax_t kMaxLeaseFile = 1 << 20;  // dhclient appends; a sane file is far smaller

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

std::string trim(std::string s) {
  const char* ws = " \t\r;\"";
  s.erase(0, s.find_first_not_of(ws));
  auto end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

}  // namespace

std::vector<std::string> parse_lease_servers(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::string value;
    const std::string dhclient = "option dhcp-server-identifier ";
    auto at = line.find(dhclient);
    if (at != std::string::npos)
      value = trim(line.substr(at + dhclient.size()));
    else if (trim(line).rfind("SERVER_ADDRESS=", 0) == 0)
      value = trim(trim(line).substr(15));
    if (is_ipv4(value)) out.push_back(value);
  }
  return out;
}

std::vector<std::string> dhcp_lease_servers(const std::string& root) {
  namespace fs = std::filesystem;
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const char* dir : kLeaseDirs) {
    std::error_code ec;
    fs::directory_iterator it(fs::path(root) / dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::error_code fec;
      if (!it->is_regular_file(fec) || it->file_size(fec) > kMaxLeaseFile) continue;
      std::ifstream f(it->path());
      std::ostringstream s;
      s << f.rdbuf();
      for (auto& server : parse_lease_servers(s.str()))
        if (out.size() < kMaxServers && seen.insert(server).second) out.push_back(server);
    }
  }
  return out;
}

}  // namespace seatlock::net
