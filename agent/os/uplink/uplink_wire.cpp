#include "os/uplink/uplink_wire.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace seatlock::uplink {

namespace {

bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// False at a clean end of stream before the first byte; throws on an error or a cut frame.
bool recv_all(int fd, char* data, std::size_t n, bool at_frame_start) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, data + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw std::runtime_error(std::string("uplink: read failed: ") + strerror(errno));
    if (r == 0) {
      if (got == 0 && at_frame_start) return false;
      throw std::runtime_error("uplink: stream ended inside a frame");
    }
    got += static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

bool write_frame(int fd, const Frame& frame) {
  const std::string head =
      frame.head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (head.size() > kMaxHeadBytes || frame.body.size() > kMaxBodyBytes) return false;
  std::uint32_t lengths[2] = {static_cast<std::uint32_t>(head.size()),
                              static_cast<std::uint32_t>(frame.body.size())};
  // One buffer for prefix + head, so a small frame is one send().
  std::string out(reinterpret_cast<const char*>(lengths), sizeof lengths);
  out += head;
  return send_all(fd, out.data(), out.size()) && send_all(fd, frame.body.data(), frame.body.size());
}

std::optional<Frame> read_frame(int fd) {
  std::uint32_t lengths[2];
  if (!recv_all(fd, reinterpret_cast<char*>(lengths), sizeof lengths, true)) return std::nullopt;
  if (lengths[0] > kMaxHeadBytes || lengths[1] > kMaxBodyBytes)
    throw std::runtime_error("uplink: frame too large (head " + std::to_string(lengths[0]) +
                             " bytes, body " + std::to_string(lengths[1]) + " bytes)");
  std::string head(lengths[0], '\0');
  recv_all(fd, head.data(), head.size(), false);
  Frame f;
  f.body.resize(lengths[1]);
  recv_all(fd, f.body.data(), f.body.size(), false);
  f.head = nlohmann::json::parse(head, nullptr, false);
  if (!f.head.is_object() || !f.head.contains("id") || !f.head["id"].is_number_unsigned())
    throw std::runtime_error("uplink: malformed frame head");
  return f;
}

Frame request_frame(std::uint64_t id, const HttpRequest& r) {
  Frame f;
  f.head = {{"id", id},
            {"op", r.body ? "post" : "get"},
            {"url", r.url},
            {"headers", r.headers},
            {"timeout_s", r.timeout_s},
            {"tls",
             {{"ca", r.tls.ca_pem},
              {"cert", r.tls.cert_pem},
              {"key", r.tls.key_pem},
              {"token", r.tls.token}}}};
  if (r.body) f.body = *r.body;
  return f;
}

HttpRequest request_of(const Frame& f) {
  HttpRequest r;
  r.url = f.head.at("url").get<std::string>();
  r.headers = f.head.at("headers").get<std::vector<std::string>>();
  r.timeout_s = f.head.at("timeout_s").get<long>();
  const auto& tls = f.head.at("tls");
  r.tls.ca_pem = tls.at("ca").get<std::string>();
  r.tls.cert_pem = tls.at("cert").get<std::string>();
  r.tls.key_pem = tls.at("key").get<std::string>();
  r.tls.token = tls.at("token").get<std::string>();
  if (f.head.at("op") == "post") r.body = f.body;
  return r;
}

Frame cancel_frame(std::uint64_t id) {
  return {{{"id", id}, {"op", "cancel"}}, {}};
}

Frame ping_frame(std::uint64_t id) {
  return {{{"id", id}, {"op", "ping"}}, {}};
}

Frame result_frame(std::uint64_t id, const HttpResult& r) {
  Frame f;
  f.head = {{"id", id}, {"status", r.status}, {"error", r.error}};
  if (r.retry_after_s) f.head["retry_after_s"] = *r.retry_after_s;
  f.body = r.body;
  return f;
}

HttpResult result_of(const Frame& f) {
  HttpResult r;
  r.status = f.head.value("status", 0L);
  r.error = f.head.value("error", std::string());
  if (f.head.contains("retry_after_s")) r.retry_after_s = f.head["retry_after_s"].get<long>();
  r.body = f.body;
  return r;
}

}  // namespace seatlock::uplink
