#pragma once
// seatlockd's HttpClient: each request goes to the unprivileged seatlock-uplink process
// (spawn_uplink.hpp) over a socketpair, tagged with an id so several can be in flight at once
// (the fleet long-poll holds one for minutes while the sender posts batches), and the calling
// thread waits for its answer. The root process thus links no HTTP/TLS stack and parses no
// server bytes beyond a small JSON head (issue 14, issue 18).
//
// The child starts with the first request, not with seatlockd: a seat whose policy has no
// collector sends nothing and keeps no idle HTTP/TLS process (~12 MB). When it ends, the
// requests in flight fail as a network error (status 0; their callers retry), the end is
// logged, and a new child starts after a backoff. Once stop() is called (seatlockd got SIGTERM)
// a child that ends is not replaced and none starts: under systemd the whole cgroup gets the
// signal, so the child usually dies first. Destroying the client ends the child.
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
  explicit UplinkClient(std::string exe = uplink::default_uplink_path());
  ~UplinkClient() override;
  UplinkClient(const UplinkClient&) = delete;
  UplinkClient& operator=(const UplinkClient&) = delete;

  // Reads the TLS files here, as root, and sends their content (the child cannot read them).
  HttpResult perform(const HttpRequest& request, const std::atomic<bool>* abort) override;

  // seatlockd is stopping: no new child from now on; one still running serves until the end.
  void stop();

  pid_t child_pid() const;  // 0 while no child runs
  // {"state": "not started"|"starting"|"running"|"restarting"|"stopping", "reason" while no
  // child runs, "pid", "starts", "requests", "in_flight", "last_error"}.
  nlohmann::json status() const;

 private:
  struct Channel;  // the parent's end of one child's socketpair
  struct Pending {
    bool done = false;
    HttpResult result;
  };

  void supervise();
  std::string serve(const std::shared_ptr<Channel>& ch);  // answers until the stream ends: why
  bool child_ended(pid_t pid, const std::string& why);    // true: seatlockd is stopping
  bool stopping_locked();  // stopping_, or a stop signal pending (then sets it); holds mu_
  void wait_backoff(std::int64_t ms);

  const std::string exe_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Channel> channel_;  // null while no child runs
  pid_t pid_ = 0;
  bool wanted_ = false;     // a request came: the child runs from then on
  bool stopping_ = false;   // stop() or the destructor: no new child
  std::string last_error_;  // why the child is not running / last ended
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Pending*> pending_;
  std::uint64_t starts_ = 0, requests_ = 0;
  std::thread supervisor_;
};

}  // namespace seatlock
