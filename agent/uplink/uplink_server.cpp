#include "uplink/uplink_server.hpp"

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "os/uplink/uplink_wire.hpp"

namespace seatlock::uplink {

namespace {

struct InFlight {
  std::atomic<bool> abort{false};
  std::atomic<bool> finished{false};
  std::thread worker;
};

class Server {
 public:
  Server(int fd, HttpClient& http) : fd_(fd), http_(http) {}

  ~Server() {
    for (auto& [id, r] : running_) r->abort = true;
    for (auto& [id, r] : running_) r->worker.join();
  }

  void start(std::uint64_t id, HttpRequest request) {
    reap();
    auto r = std::make_unique<InFlight>();
    InFlight* self = r.get();
    r->worker = std::thread([this, id, self, req = std::move(request)] {
      HttpResult res = http_.perform(req, &self->abort);
      if (!self->abort) {
        std::lock_guard lk(write_mu_);
        if (!write_frame(fd_, result_frame(id, res)))
          std::cerr << "seatlock-uplink: cannot send the answer to request " << id << "\n";
      }
      self->finished = true;
    });
    running_[id] = std::move(r);
  }

  void pong(std::uint64_t id) {
    std::lock_guard lk(write_mu_);
    write_frame(fd_, result_frame(id, HttpResult{}));
  }

  void cancel(std::uint64_t id) {
    auto it = running_.find(id);
    if (it != running_.end()) it->second->abort = true;
  }

 private:
  void reap() {  // threads of answered requests
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->second->finished) {
        it->second->worker.join();
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
  }

  int fd_;
  HttpClient& http_;
  std::mutex write_mu_;
  std::map<std::uint64_t, std::unique_ptr<InFlight>> running_;  // reader thread only
};

}  // namespace

int serve_requests(int fd, HttpClient& http) {
  Server server(fd, http);
  try {
    while (std::optional<Frame> f = read_frame(fd)) {
      const std::uint64_t id = f->head["id"].get<std::uint64_t>();
      const std::string op = f->head.value("op", std::string());
      if (op == "ping") {
        server.pong(id);
      } else if (op == "cancel") {
        server.cancel(id);
      } else if (op == "post" || op == "get") {
        server.start(id, request_of(*f));
      } else {
        std::cerr << "seatlock-uplink: unknown op \"" << op << "\" in request " << id << "\n";
        return 1;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "seatlock-uplink: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace seatlock::uplink
