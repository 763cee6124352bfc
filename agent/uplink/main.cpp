// seatlock-uplink: the network side of seatlockd (event delivery, the fleet long-poll, the
// attestation rounds). seatlockd starts it with one end of a socketpair as fd 3, already as an
// unprivileged user with no capabilities and PR_SET_NO_NEW_PRIVS (os/uplink/spawn_uplink.cpp),
// and sends it HTTP requests with the TLS material by content; it does the transfers with
// libcurl and answers. It holds no state: when it ends, seatlockd starts a new one.
#include <curl/curl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>

#include "uplink/curl_http_client.hpp"
#include "uplink/uplink_server.hpp"

int main(int argc, char** argv) {
  (void)argv;
  constexpr int kFd = 3;
  int type = 0;
  socklen_t len = sizeof type;
  if (argc != 1 || getsockopt(kFd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    std::cerr << "seatlock-uplink: started by seatlockd only (expects its socket as fd 3)\n";
    return 2;
  }
  if (geteuid() == 0 || getuid() == 0) {
    std::cerr << "seatlock-uplink: refusing to run as root\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);  // a gone seatlockd is a write error, handled
  // Before the first request is read: TLS set up once, up front.
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    std::cerr << "seatlock-uplink: curl_global_init failed\n";
    return 1;
  }
  seatlock::CurlHttpClient http;
  return seatlock::uplink::serve_requests(kFd, http);
}
