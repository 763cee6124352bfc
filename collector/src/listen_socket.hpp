#pragma once
// The listening sockets of `serve` (the seats' listener and the console's) and the descriptor
// budget every connection needs. Plain POSIX, no Asio: server.cpp hands the descriptors to it.
#include <string>

namespace seatlock::collector {

// Resolves HOST:PORT (names, [v6]) and listens; `bound` gets the numeric address:port.
// `flag` names the option in errors ("--listen", "--console-listen").
int open_listener(const std::string& flag, const std::string& listen, std::string& bound);

// The client closed (or reset) the connection while it waited in the listen backlog.
bool peer_gave_up(int fd);

// Every connection needs a descriptor: use the hard limit, not the (often 1024) soft one.
void raise_fd_limit();

}  // namespace seatlock::collector
