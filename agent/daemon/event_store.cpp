#include "daemon/event_store.hpp"

#include <stdexcept>

#include "os/base/log.hpp"
#include "os/events/reporter.hpp"
#include "os/spool/spool_open.hpp"

namespace seatlock {

namespace {
constexpr std::uint64_t kRetryUsec = 2'000'000;  // how often a degraded spool is retried
}

EventStore::EventStore(const DaemonOptions& options, sd_event* loop) : loop_(loop) {
  OpenedSpool opened = open_spool_or_set_aside(options.state_dir + "/spool.db", now_millis());
  spool_ = std::move(opened.spool);
  sink_ = std::make_unique<ResilientSink>(*spool_);
  if (opened.reset) {
    Event e;
    e.kind = "spool.reset";
    e.severity = "high";
    e.outcome = "reported";
    e.details = std::move(*opened.reset);
    sink_->record_first(std::move(e));
  }
  // Disabled while nothing waits; append() arms it when the spool turns degraded.
  if (sd_event_add_time(loop_, &retry_, CLOCK_MONOTONIC, 0, 100'000, on_retry, this) < 0)
    throw std::runtime_error("event store: cannot add the retry timer");
  sd_event_source_set_enabled(retry_, SD_EVENT_OFF);
}

EventStore::~EventStore() {
  sd_event_source_unref(retry_);
  if (sink_->degraded()) sink_->retry();  // a last try; what still waits is reported lost below
  if (auto st = sink_->status(); st["backlog_events"].get<std::uint64_t>() > 0)
    log_error("spool: " + st["backlog_events"].dump() + " events could not be stored (" +
              st.value("error", std::string()) + ")");
}

Event EventStore::append(Event draft) {
  Event out = sink_->append(std::move(draft));
  if (sink_->degraded()) arm_retry();
  return out;
}

std::vector<Event> EventStore::append_batch(std::vector<Event> drafts) {
  auto out = sink_->append_batch(std::move(drafts));
  if (sink_->degraded()) arm_retry();
  return out;
}

void EventStore::arm_retry() {
  int on = SD_EVENT_OFF;
  sd_event_source_get_enabled(retry_, &on);
  if (on != SD_EVENT_OFF) return;
  std::uint64_t now = 0;
  sd_event_now(loop_, CLOCK_MONOTONIC, &now);
  sd_event_source_set_time(retry_, now + kRetryUsec);
  sd_event_source_set_enabled(retry_, SD_EVENT_ONESHOT);
}

int EventStore::on_retry(sd_event_source*, uint64_t, void* self) {
  auto* me = static_cast<EventStore*>(self);
  if (!me->sink_->retry()) me->arm_retry();
  return 0;
}

std::unique_ptr<EventStore> make_event_store(const DaemonOptions& options, sd_event* loop) {
  return std::make_unique<EventStore>(options, loop);
}

}  // namespace seatlock
