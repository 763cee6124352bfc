#include "daemon/event_store.hpp"

#include <stdexcept>

#include "core/event/kinds.hpp"
#include "os/base/log.hpp"
#include "os/events/reporter.hpp"
#include "os/spool/spool_open.hpp"

namespace seatlock {

namespace {
constexpr std::uint64_t kRetryUsec = 2'000'000;  // how often a degraded spool is retried
}

EventStore::EventStore(const DaemonOptions& options, sd_event* loop)
    : retry_(loop, CLOCK_MONOTONIC, 100'000, "event store: spool retry",
             [this](std::uint64_t) { on_retry(); }) {
  OpenedSpool opened = open_spool_or_set_aside(options.state_dir + "/spool.db", now_millis());
  spool_ = std::move(opened.spool);
  sink_ = std::make_unique<ResilientSink>(*spool_);
  if (opened.reset) {
    Event e = make_event(EventKind::SpoolReset, Outcome::Reported);
    e.details = std::move(*opened.reset);
    sink_->record_first(std::move(e));
  }
  // retry_ stays disarmed while nothing waits; append() arms it when the spool turns degraded.
}

EventStore::~EventStore() {
  retry_.disarm();
  // A destructor must not throw (that would be std::terminate at shutdown): the last try and its
  // report are best effort.
  try {
    sink_->flush();  // what producers submitted (agent.stopping last) is durable before exit
    if (sink_->degraded()) sink_->retry();  // a last try; what still waits is reported lost below
    if (auto st = sink_->status(); st["backlog_events"].get<std::uint64_t>() > 0)
      log_error("spool: " + st["backlog_events"].dump() + " events could not be stored (" +
                st.value("error", std::string()) + ")");
  } catch (const std::exception& e) {
    log_error(std::string("spool: the last store at shutdown failed: ") + e.what());
  }
}

Event EventStore::append(Event draft) {
  Event out = sink_->append(std::move(draft));
  if (sink_->degraded()) arm_retry();
  return out;
}

void EventStore::post(Event draft) {
  sink_->post(std::move(draft));
  // A failed commit may only be known later (the sink's drainer retries meanwhile); the timer
  // is armed by the next event that finds the sink degraded.
  if (sink_->degraded()) arm_retry();
}

std::vector<Event> EventStore::append_batch(std::vector<Event> drafts) {
  auto out = sink_->append_batch(std::move(drafts));
  if (sink_->degraded()) arm_retry();
  return out;
}

void EventStore::arm_retry() {
  // A failure is logged by the timer; the events still wait in memory and the next append
  // tries to arm it again.
  (void)retry_.arm_in_unless_armed(kRetryUsec);
}

void EventStore::on_retry() {
  if (!sink_->retry()) arm_retry();
}

std::unique_ptr<EventStore> make_event_store(const DaemonOptions& options, sd_event* loop) {
  return std::make_unique<EventStore>(options, loop);
}

}  // namespace seatlock
