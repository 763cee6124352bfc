#pragma once
// The default EventStore: one SQLite file in WAL mode, synchronous=FULL (a 200 to a seat means
// the batch is on disk). Indexes: (seat, seq) for chain checks, (seat, time) and (time) for
// auditors' queries; the console's (user, kind, severity + time) indexes and violation rollups
// are sqlite_console.hpp's.
#include <memory>
#include <string>

#include "store.hpp"

namespace seatlock::collector {

// create=false: the file must already exist (auditor commands never make an empty database).
// background_checkpoint (serve): WAL checkpoints run on their own connection and thread, so the
// single writer never pays for copying pages into the database file inside a commit.
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, bool create,
                                              bool background_checkpoint = false);

}  // namespace seatlock::collector
