#pragma once
// seatlockd's HttpClient: each request goes to the unprivileged seatlock-uplink process
// (spawn_uplink.hpp) over a socketpair, tagged with an id so several can be in flight at once
// (the fleet long-poll holds one for minutes while the sender posts batches), and the calling
// thread waits for its answer. The root process thus links no HTTP/TLS stack and parses no
// server bytes beyond a small JSON head (issue 14, issue 18).
//
// The child starts with the first request, or at once with `start_now` (seatlockd with event
// delivery: the first poll and batch then find it running, as they found libcurl). When it ends,
// the requests in flight fail as a network error (status 0; their callers retry), the end is
// logged, and a new child starts after a backoff. Destroying the client ends the child.
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "os/delivery/http_post.hpp"
#include "os/uplink/spawn_uplink.hpp"

namespace seatlock {

class UplinkClient : public HttpClient {
 public:
  explicit UplinkClient(std::string exe = uplink::default_uplink_path(), bool start_now = false);
  ~UplinkClient() override;
  UplinkClient(const UplinkClient&) = delete;
  UplinkClient& operator=(const UplinkClient&) = delete;

  // Reads the TLS files here, as root, and sends their content (the child cannot read them).
  HttpResult perform(const HttpRequest& request, const std::atomic<bool>* abort) override;

  pid_t child_pid() const;  // 0 while no child runs
  nlohmann::json status() const;

 private:
  struct Channel;  // the parent's end of one child's socketpair
  struct Pending {
    bool done = false;
    HttpResult result;
  };

  void supervise();
  std::string serve(const std::shared_ptr<Channel>& ch);  // answers until the stream ends: why
  void child_ended(pid_t pid, const std::string& why);
  void wait_backoff(std::int64_t ms);

  const std::string exe_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Channel> channel_;  // null while no child runs
  pid_t pid_ = 0;
  bool wanted_ = false;  // a request came: the child runs from then on
  bool stopping_ = false;
  std::string last_error_;  // why the child is not running / last ended
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Pending*> pending_;
  std::uint64_t starts_ = 0, requests_ = 0;
  std::thread supervisor_;
};

}  // namespace seatlock
