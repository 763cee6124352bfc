#include "os/events/reporter.hpp"

#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include <stdexcept>

namespace seatlock {

namespace {

// Random bytes for ids, fetched 25 ids at a time: one getrandom() per event was a syscall on
// every report(). Per thread, so no lock. 250 bytes: getrandom() returns requests up to 256
// bytes whole, signals or not. initial-exec: the library is -fPIC but only ever linked into
// executables, and the default (general-dynamic) model would make seatlock-usbd need ld-linux
// for __tls_get_addr.
struct RandomPool {
  unsigned char bytes[250] = {};
  std::size_t used = sizeof bytes;
};
[[gnu::tls_model("initial-exec")]] constinit thread_local RandomPool pool;

// A forked child must not hand out its parent's bytes (ids are the dedup key end to end).
void forget_pool_in_child() {
  pool.used = sizeof pool.bytes;
}

}  // namespace

std::string new_event_id(UnixMillis now) {
  static const int atfork = pthread_atfork(nullptr, nullptr, forget_pool_in_child);
  (void)atfork;
  constexpr std::size_t kPerId = 10;
  if (pool.used + kPerId > sizeof pool.bytes) {
    if (getrandom(pool.bytes, sizeof pool.bytes, 0) != static_cast<ssize_t>(sizeof pool.bytes))
      throw std::runtime_error("getrandom failed");
    pool.used = 0;
  }
  const unsigned char* r = pool.bytes + pool.used;
  pool.used += kPerId;
  return make_uuid_v7(now, r);
}

SeatIdentity local_seat_identity(const std::string& configured_id) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  SeatIdentity s;
  s.hostname = host;
  s.seat_id = configured_id.empty() ? s.hostname : configured_id;
  return s;
}

Reporter::Reporter(EventSink& sink, SeatIdentity seat, UserLookup user_lookup)
    : sink_(&sink), seat_(std::move(seat)), user_lookup_(std::move(user_lookup)) {}

Event Reporter::prepare(Event e) {
  if (e.time == 0) e.time = now_millis();
  if (e.id.empty()) e.id = new_event_id(e.time);
  e.seat_id = seat_.seat_id;
  e.hostname = seat_.hostname;
  if (!e.user && user_lookup_) e.user = user_lookup_();
  if (e.policy_sha256.empty()) e.policy_sha256 = policy_sha256_;
  if (e.details.is_null()) e.details = nlohmann::json::object();
  return e;
}

void Reporter::report(Event draft) {
  sink_->post(prepare(std::move(draft)));
}

Event Reporter::report_stored(Event draft) {
  return sink_->append(prepare(std::move(draft)));
}

}  // namespace seatlock
