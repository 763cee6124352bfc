#pragma once
// The one way seatlock replaces a file: a temporary file in the same directory, written in full,
// fsync'd, renamed over the target, then the directory fsync'd. A reader sees the old content or
// the new, never a part; after a crash the new content is either all there or not at all.
#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace seatlock {

// Which step failed, on which path, and errno: "cannot rename /x.tmp.Ab12Cd to /x: ...".
class AtomicWriteError : public std::runtime_error {
 public:
  AtomicWriteError(const std::string& what, int error) : std::runtime_error(what), error_(error) {}
  int error() const { return error_; }

 private:
  int error_;
};

struct AtomicWriteOptions {
  // Set with fchmod on the temporary file: the umask neither widens nor narrows it.
  mode_t mode = 0644;
  // When set and different from the temporary file's owner, fchown'd before the rename (e.g.
  // keeping a root-owned file's group when seatlockctl setup rewrites it).
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// Replaces `path` with `content`. The directory must exist. On any failure the temporary file is
// removed, `path` keeps its old content (unless the failure is the final directory fsync, after
// the rename) and AtomicWriteError is thrown.
void atomic_write(const std::string& path, std::string_view content,
                  const AtomicWriteOptions& options = {});

inline void atomic_write(const std::string& path, std::string_view content, mode_t mode) {
  AtomicWriteOptions o;
  o.mode = mode;
  atomic_write(path, content, o);
}

// atomic_write() unless `path` holds `content` already (a cache rewritten at every start: no
// write and no fsyncs on the boot path). Returns whether it wrote.
bool atomic_write_if_changed(const std::string& path, std::string_view content, mode_t mode);

}  // namespace seatlock
