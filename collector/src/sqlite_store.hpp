#pragma once
// The default EventStore: one SQLite file in WAL mode, synchronous=FULL (a 200 to a seat means
// the batch is on disk). Indexes: (seat, seq) for chain checks, (seat, time) and (time) for
// auditors' queries.
#include <memory>
#include <string>

#include "store.hpp"

namespace seatlock::collector {

// create=false: the file must already exist (auditor commands never make an empty database).
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, bool create);

}  // namespace seatlock::collector
