#include "os/spool/prepared_event.hpp"

#include <openssl/rand.h>

#include <charconv>
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
// A chain hash (64 hex digits) and the digits of a uint64 seq.
constexpr std::size_t kMaxFill = 64 + 20;

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
  // One allocation: room for the bytes and for what fill() inserts later.
  p.text.reserve(canonical_size_hint(e) + kMaxFill);
  append_canonical_bytes(p.text, e);
  p.keep = keep_row(e);
  auto prev = p.text.rfind(kPrevField);
  auto seq = p.text.rfind(kSeqField);
  if (prev == std::string::npos || seq == std::string::npos || seq < prev)
    throw std::logic_error("canonical event bytes without the prev/seq fields where expected");
  p.prev_at = prev + kPrevValue;
  p.seq_at = seq + kSeqValue;
  p.text.reserve(p.text.size() + kMaxFill);  // no-op unless details outgrew the size hint
  return p;
}

const std::string& PreparedEvent::fill(std::string_view prev, std::uint64_t seq) {
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
  (void)ec;  // 20 digits hold any uint64
  // The seq first: it comes after prev, so inserting prev does not move seq_at.
  text.replace(seq_at, 1, digits, static_cast<std::size_t>(end - digits));
  text.insert(prev_at, prev);
  return text;
}

}  // namespace seatlock::spool_detail
