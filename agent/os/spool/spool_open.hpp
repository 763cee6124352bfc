#pragma once
// Opening seatlockd's spool at start. A file that is not a usable spool (SQLITE_NOTADB,
// SQLITE_CORRUPT, a failed quick check, a schema that is not ours) must not keep the daemon
// from starting: it is moved aside (with its -wal/-shm) to <path>.corrupt-<UTC time> for
// forensics and a fresh spool is created. The fresh chain continues the old one when the old
// head can still be read; otherwise seq jumps to the current Unix time in milliseconds (always
// above any seq the seat used before), so the collector sees a gap, never a reused seq.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "os/spool/spool.hpp"

namespace seatlock {

struct OpenedSpool {
  std::unique_ptr<Spool> spool;
  // Set when the file was set aside: the details of the `spool.reset` event (docs/events.md).
  std::optional<nlohmann::json> reset;
};

// Throws std::runtime_error when the spool cannot be opened for another reason (permissions, no
// space to create a fresh one, ...).
OpenedSpool open_spool_or_set_aside(const std::string& path, UnixMillis now);

}  // namespace seatlock
