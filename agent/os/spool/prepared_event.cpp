#include "os/spool/prepared_event.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace seatlock::spool_detail {

namespace {

// The keys that follow "prev" and "seq" in canonical order are always present ("schema",
// "severity"), and every string after them is escaped, so the last match is the field itself
// (a `"` inside a value is written `\"`, never a bare quote).
constexpr std::string_view kPrevField = ",\"prev\":\"\",\"schema\":";
constexpr std::string_view kSeqField = ",\"seq\":0,\"severity\":";
constexpr std::size_t kPrevValue = sizeof(",\"prev\":\"") - 1;
constexpr std::size_t kSeqValue = sizeof(",\"seq\":") - 1;

bool keep_row(const Event& e) {
  return is_violation(e) || e.kind.rfind("spool.", 0) == 0;
}

}  // namespace

std::string fresh_event_id(UnixMillis now) {
  unsigned char r[10];
  if (RAND_bytes(r, sizeof r) != 1) throw std::runtime_error("no randomness for an event id");
  return make_uuid_v7(now, r);
}

PreparedEvent prepare_event(Event& e, UnixMillis now) {
  if (e.id.empty()) e.id = fresh_event_id(now);
  if (e.time == 0) e.time = now;
  e.seq = 0;
  e.prev.clear();
  PreparedEvent p;
  p.text = canonical_bytes(e);
  p.keep = keep_row(e);
  auto prev = p.text.rfind(kPrevField);
  auto seq = p.text.rfind(kSeqField);
  if (prev == std::string::npos || seq == std::string::npos || seq < prev)
    throw std::logic_error("canonical event bytes without the prev/seq fields where expected");
  p.prev_at = prev + kPrevValue;
  p.seq_at = seq + kSeqValue;
  return p;
}

std::string PreparedEvent::body(std::string_view prev, std::uint64_t seq) const {
  std::string digits = std::to_string(seq);
  std::string out;
  out.reserve(text.size() + prev.size() + digits.size());
  out.append(text, 0, prev_at);
  out += prev;
  out.append(text, prev_at, seq_at - prev_at);
  out += digits;
  out.append(text, seq_at + 1, std::string::npos);
  return out;
}

}  // namespace seatlock::spool_detail
