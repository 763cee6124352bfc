#pragma once
// seatlock-usbd's end of the channel to seatlockd: a unix SOCK_SEQPACKET socket, one JSON object
// per message (docs/usbd.md "Channel"). One client at a time (seatlockd); a new connection
// replaces the old one. Only root or usbd's own uid may connect (SO_PEERCRED).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "usbd/epoll_loop.hpp"

namespace seatlock {

class ChannelServer {
 public:
  // `on_request` answers one request ({"id", "op", ...}); its result goes back as
  // {"id", "ok": true, "result"} and an exception as {"id", "ok": false, "error"}.
  using RequestHandler = std::function<nlohmann::json(const nlohmann::json& request)>;
  ChannelServer(EpollLoop& loop, std::string path, RequestHandler on_request,
                std::function<void()> on_connect);
  ~ChannelServer();
  ChannelServer(const ChannelServer&) = delete;
  ChannelServer& operator=(const ChannelServer&) = delete;

  bool connected() const { return client_ >= 0; }
  // Sends one message to the client; false (and the client is dropped) when it cannot.
  bool send(const nlohmann::json& message);

  static constexpr std::size_t kMaxMessage = 256 * 1024;

 private:
  void accept_client();
  void read_client();
  void drop_client();

  EpollLoop& loop_;
  std::string path_;
  RequestHandler on_request_;
  std::function<void()> on_connect_;
  int listen_ = -1;
  int client_ = -1;
};

}  // namespace seatlock
