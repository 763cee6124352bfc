#pragma once
// The sink seatlockd records into: the SQLite spool at <state_dir>/spool.db behind a
// ResilientSink, so that producers (and enforcement) never depend on storage working. A spool
// that is unusable at start is set aside and replaced (spool_open.hpp); while storing fails,
// events wait in memory and a timer on the daemon's loop retries (resilient_sink.hpp).
#include <systemd/sd-event.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "core/event/sink.hpp"
#include "daemon/options.hpp"
#include "os/base/event_loop.hpp"
#include "os/spool/resilient_sink.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

class EventStore : public EventSink {
 public:
  EventStore(const DaemonOptions& options, sd_event* loop);
  ~EventStore() override;
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  Event append(Event draft) override;
  std::vector<Event> append_batch(std::vector<Event> drafts) override;
  void post(Event draft) override;
  // Waits until everything submitted is stored (or waits in memory): before the daemon answers
  // a control request, so that what a command recorded is in the spool when the reply arrives.
  void flush() override { sink_->flush(); }

  // The spool itself, for the delivery side (reading batches, marking rows delivered).
  Spool& spool() { return *spool_; }
  // {"state":"ok"|"degraded", "backlog_events", ...} (ResilientSink::status).
  nlohmann::json status() const { return sink_->status(); }

 private:
  void arm_retry();
  void on_retry();

  std::unique_ptr<Spool> spool_;
  std::unique_ptr<ResilientSink> sink_;
  OneShotTimer retry_;  // last: released before the sink its handler uses
};

std::unique_ptr<EventStore> make_event_store(const DaemonOptions& options, sd_event* loop);

}  // namespace seatlock
