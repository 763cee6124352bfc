#pragma once
// Fills in what every event shares (id, time, seat, user, policy hash) and hands it to the sink.
// Producers only say what happened.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/event/sink.hpp"
#include "os/base/clock.hpp"

namespace seatlock {

struct SeatIdentity {
  std::string seat_id;
  std::string hostname;
};

// The user of the active graphical/console session (sd-login); nullopt when nobody is logged in.
std::optional<UserRef> active_session_user();
SeatIdentity local_seat_identity(const std::string& configured_id);

class Reporter {
 public:
  using UserLookup = std::function<std::optional<UserRef>()>;
  Reporter(EventSink& sink, SeatIdentity seat, UserLookup user_lookup = active_session_user);

  void set_policy_hash(const std::string& sha256) { policy_sha256_ = sha256; }
  void set_seat(SeatIdentity seat) { seat_ = std::move(seat); }
  // Swap the sink (e.g. when the spool opens after start); not thread-safe.
  void set_sink(EventSink& sink) { sink_ = &sink; }
  const SeatIdentity& seat() const { return seat_; }

  // `draft` needs kind, severity, outcome, details; mode and rule where they apply. id and
  // time are filled when empty/zero (set them yourself when the finding happened earlier);
  // user is looked up when not set. Does not wait for the disk (EventSink::post): the event
  // is stored behind everything reported before, durable at the latest at the sink's flush().
  void report(Event draft);
  // Like report(), but returns once the event is stored, with its seq and prev (seq 0 while
  // it waits in the sink's backlog). For the callers that use the stored seq.
  Event report_stored(Event draft);
  // Fills the shared fields without storing (for producers that batch).
  Event prepare(Event draft);

 private:
  EventSink* sink_;
  SeatIdentity seat_;
  UserLookup user_lookup_;
  std::string policy_sha256_;
};

// Random bytes for event ids (the clock is os/base/clock.hpp).
std::string new_event_id(UnixMillis now);

}  // namespace seatlock
