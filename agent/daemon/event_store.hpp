#pragma once
// The sink seatlockd records into. Interim: JSON lines; the spool work replaces the body of
// make_event_sink() with the SQLite spool (producers are unaffected).
#include <memory>

#include "core/event/sink.hpp"
#include "daemon/options.hpp"

namespace seatlock {

std::unique_ptr<EventSink> make_event_sink(const DaemonOptions& options);

}  // namespace seatlock
