#pragma once
// seatlock-uplink's side of the socketpair (os/uplink/uplink_wire.hpp): every request runs on
// its own thread through `http`, so a long-poll held for minutes never delays a batch; a
// cancel frame aborts its request. Returns when seatlockd closes the stream (after aborting
// and finishing what is in flight): 0, or 1 when the stream broke.
#include "os/delivery/http_post.hpp"

namespace seatlock::uplink {

int serve_requests(int fd, HttpClient& http);

}  // namespace seatlock::uplink
