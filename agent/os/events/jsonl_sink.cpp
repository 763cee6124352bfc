#include "os/events/jsonl_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace seatlock {

JsonlEventSink::JsonlEventSink(std::string path)
    : path_(std::move(path)), last_hash_(kGenesisPrev) {
  // Continue the chain from the last complete line (a torn last line from a crash is ignored).
  std::ifstream in(path_);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line.back() == '}') last = line;
  if (!last.empty()) {
    Event e;
    if (event_from_json(nlohmann::json::parse(last, nullptr, false), e).empty()) {
      last_seq_ = e.seq;
      last_hash_ = chain_hash(e);
    }
  }
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error("cannot open event log " + path_ + ": " + std::strerror(errno));
}

JsonlEventSink::~JsonlEventSink() {
  if (fd_ >= 0) close(fd_);
}

Event JsonlEventSink::append(Event e) {
  e.seq = last_seq_ + 1;
  e.prev = last_hash_;
  std::string line = canonical_bytes(e) + "\n";
  if (write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      fdatasync(fd_) != 0)
    throw std::runtime_error("cannot write event log " + path_ + ": " + std::strerror(errno));
  last_seq_ = e.seq;
  last_hash_ = chain_hash(e);
  return e;
}

}  // namespace seatlock
