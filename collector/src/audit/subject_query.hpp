#pragma once
// `query --seat S` for an auditor: S's own events and, merged in time order, the collector
// events about S (details.seats contains S, collector_log.hpp), e.g. the collector's
// `firmware.attested` verdicts next to the seat's self-reported `firmware.attestation`.
#include <functional>

#include "store.hpp"

namespace seatlock::collector::audit {

// As EventStore::query; when f.seat names a seat (not a collector chain), the collector events
// about that seat that match the other filters are merged in (ordered by time; f.limit counts
// both). The collector chains are read with the filter's kind/severity/time bounds and their
// lines parsed: cheap while collector events are few next to seat events (docs/firmware.md).
void query_with_subjects(EventStore& store, const EventFilter& f,
                         const std::function<bool(const StoredEvent&)>& fn);

// Whether a collector event's line lists `seat` in details.seats.
bool is_about_seat(const StoredEvent& e, const std::string& seat);

}  // namespace seatlock::collector::audit
