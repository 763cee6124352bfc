#pragma once
// The seat's end of the fleet long-poll (docs/wire.md "Policy long-poll"): one worker thread
// that keeps `GET /v1/policy?after=CURSOR&wait=S` open to the collector with the same TLS
// identity and HttpClient as event delivery (os/delivery/http_post.hpp), and hands every
// bundle answer, unparsed, to `on_bundle`. It never looks inside a bundle: the daemon verifies
// and decides, then tells the client the next cursor with resume(). Kept behind this narrow
// interface so the network side can later move into its own unprivileged process (issue 14).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "os/delivery/http_post.hpp"
#include "os/delivery/verdict.hpp"

namespace seatlock {

struct PollConfig {
  std::string collector;  // "https://host:port"; "" = do not poll
  TlsSettings tls;
  long wait_s = 300;  // how long the collector may hold one poll
};

class PolicyPollClient {
 public:
  // Called on the worker thread with the body of a 200 answer. The worker then waits for
  // resume() before polling again, so the same bundle is never fetched twice meanwhile.
  using OnBundle = std::function<void(std::string document)>;
  // `http` does the transfers (seatlockd: UplinkClient); it outlives the client.
  PolicyPollClient(OnBundle on_bundle, HttpClient& http);
  ~PolicyPollClient();  // stops the worker

  // A new collector/identity ends the poll in flight and reconnects at once.
  void configure(PollConfig cfg, std::uint64_t cursor);
  // After a bundle was handled: poll again for versions above `cursor`, after `delay_ms` (a
  // document the daemon could not even read a version from would otherwise come straight back).
  void resume(std::uint64_t cursor, std::int64_t delay_ms = 0);
  void stop();
  nlohmann::json status() const;

 private:
  void run();
  void wait_ms(std::int64_t ms);  // interruptible by configure()/stop()

  OnBundle on_bundle_;
  HttpClient& http_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  PollConfig cfg_;
  std::uint64_t generation_ = 0;  // bumped by configure(): ends waits and the poll in flight
  std::uint64_t cursor_ = 0;
  bool handing_over_ = false;  // a bundle is with the daemon, waiting for resume()
  std::int64_t resume_delay_ms_ = 0;
  std::atomic<bool> abort_{false};
  std::atomic<bool> stopping_{false};
  std::thread worker_;

  Backoff backoff_;  // worker only
  std::string state_ = "idle";
  std::string last_error_;
  long last_status_ = 0;
  std::uint64_t polls_ = 0, bundles_ = 0;
};

}  // namespace seatlock
