#pragma once
// GET /v1/policy?after=VERSION&wait=SECONDS: the long-poll a seat holds open for fleet policy.
// The request is held (an Asio timer per request, no thread per waiter) until a bundle newer
// than VERSION exists for the seat, or `wait` (capped) passes: then 204 No Content.
//
// No bundles exist yet (the fleet issue publishes them): lookup() answers "none", so every poll
// ends in 204 after `wait`. A publisher later sets the lookup and calls notify(seat).
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "router.hpp"

namespace boost::asio {
class io_context;
}

namespace seatlock::collector {

class PolicyPoll {
 public:
  // The answer for a seat holding version `after`: a bundle response, or nullopt (nothing newer).
  using Lookup =
      std::function<std::optional<HttpResponse>(const std::string& seat, std::uint64_t after)>;

  PolicyPoll(boost::asio::io_context& io, int max_wait_s);
  ~PolicyPoll();
  void add_routes(Router& router);
  void set_lookup(Lookup lookup);
  // A bundle for `seat` was published: its held polls look again and answer.
  void notify(const std::string& seat);
  // Answers every held poll now (shutdown); later polls are answered at once.
  void release_all();
  std::size_t held() const;

 private:
  void handle(const HttpRequest& req, const std::string& seat, Respond respond);
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace seatlock::collector
