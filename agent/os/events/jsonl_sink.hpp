#pragma once
// Interim EventSink: one JSON line per event in <state_dir>/events.jsonl, fsync'd per append.
// seq and prev continue from the last line after a restart.
#include <string>

#include "core/event/sink.hpp"

namespace seatlock {

class JsonlEventSink : public EventSink {
 public:
  explicit JsonlEventSink(std::string path);
  ~JsonlEventSink() override;
  Event append(Event draft) override;
  std::uint64_t last_seq() const { return last_seq_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t last_seq_ = 0;
  std::string last_hash_;
};

}  // namespace seatlock
