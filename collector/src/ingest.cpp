#include "ingest.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/event/canonical_check.hpp"
#include "core/event/event.hpp"
#include "core/json/bounded_parse.hpp"
#include "core/util/digest.hpp"
#include "event_fast_path.hpp"
#include "signing.hpp"

namespace seatlock::collector {
namespace {

Rejection reject(int status, std::string msg, int line = 0) {
  return Rejection{status, std::move(msg), line};
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace

std::string line_chain_hash(std::string_view line, const nlohmann::json& parsed, const Event& ev) {
  // The contract sends canonical bytes, so hashing the line is hashing the event; only a
  // non-canonical line needs the event re-serialised.
  return is_canonical_text(line, parsed) ? sha256_hex(line) : chain_hash(ev);
}

std::variant<StoredEvent, Rejection> read_event_line(std::string_view line, int line_no,
                                                     std::int64_t now_ms) {
  auto where = [line_no] { return "line " + std::to_string(line_no) + ": "; };
  nlohmann::json j;
  if (auto fail = parse_json_bounded(line, j, kEventJsonLimits))
    return reject(400, where() + "invalid JSON: " + fail->message, line_no);
  Event ev;
  auto errors = event_from_json(j, ev);
  if (!errors.empty()) return reject(400, where() + join(errors), line_no);
  StoredEvent s;
  s.chain_hash = line_chain_hash(line, j, ev);
  s.id = std::move(ev.id);
  s.seat_id = std::move(ev.seat_id);
  s.seq = ev.seq;
  s.time_ms = ev.time;
  s.kind = std::move(ev.kind);
  s.severity = std::move(ev.severity);
  if (ev.user) s.user_name = std::move(ev.user->name);
  s.prev = std::move(ev.prev);
  s.line = std::string(line);
  s.received_ms = now_ms;
  return s;
}

std::size_t count_newlines(std::string_view text) {
  std::size_t n = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!nl) break;
    ++n;
    p = static_cast<const char*>(nl) + 1;
  }
  return n;
}

std::variant<Batch, Rejection> parse_batch(std::string_view body, const std::string& auth_seat,
                                           const BatchHeaders& headers, std::int64_t now_ms) {
  Batch b;
  b.seat_id = auth_seat;
  b.events.reserve(count_newlines(body) + 1);
  int line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view line =
        body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? body.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto where = [line_no] { return "line " + std::to_string(line_no) + ": "; };
    if (line.empty()) return reject(400, where() + "empty line", line_no);
    StoredEvent s;
    if (auto fast = fast_stored_event(line, now_ms)) {
      s = std::move(*fast);
    } else {
      auto full = read_event_line(line, line_no, now_ms);
      if (auto* rej = std::get_if<Rejection>(&full)) return std::move(*rej);
      s = std::move(std::get<StoredEvent>(full));
    }
    if (s.seat_id != auth_seat)
      return reject(403,
                    where() + "event for seat \"" + s.seat_id + "\" but authenticated as seat \"" +
                        auth_seat + "\"",
                    line_no);
    if (!b.events.empty() && s.seq <= b.events.back().seq)
      return reject(400,
                    where() + "/seq: expected ascending seq, got " + std::to_string(s.seq) +
                        " after " + std::to_string(b.events.back().seq),
                    line_no);
    b.events.push_back(std::move(s));
  }
  if (b.events.empty()) return reject(400, "empty batch: expected at least one event line");

  // The signed chain head must name the batch's last event.
  if (headers.key_b64.empty() || headers.chain_head.empty() || headers.signature_b64.empty())
    return reject(400,
                  "missing X-Seatlock-Key, X-Seatlock-Chain-Head or X-Seatlock-Signature header");
  std::string key, sig;
  if (!base64_decode(headers.key_b64, key) || key.size() != 32)
    return reject(400, "X-Seatlock-Key: expected base64 of a 32-byte Ed25519 public key");
  if (!base64_decode(headers.signature_b64, sig) || sig.size() != 64)
    return reject(400, "X-Seatlock-Signature: expected base64 of a 64-byte Ed25519 signature");
  auto head = parse_chain_head(headers.chain_head);
  if (!head) return reject(400, "X-Seatlock-Chain-Head: expected \"<seq> <64 hex digits>\"");
  const StoredEvent& last = b.events.back();
  if (head->first != last.seq || head->second != last.chain_hash)
    return reject(400, "X-Seatlock-Chain-Head: does not match the batch's last event (seq " +
                           std::to_string(last.seq) + ", chain hash " + last.chain_hash + ")");
  if (!ed25519_verify(key, chain_head_message(auth_seat, head->first, head->second), sig))
    return reject(403, "X-Seatlock-Signature: signature does not verify with X-Seatlock-Key");
  b.head = ChainHead{auth_seat,       head->first,           head->second,
                     headers.key_b64, headers.signature_b64, now_ms};
  return b;
}

namespace {

void note(Applied& a, StoreTxn& txn, Finding f) {
  txn.add_finding(f);
  a.findings.push_back(std::move(f));
}

Finding finding(const Batch& b, std::uint64_t from, std::uint64_t to, const char* kind,
                std::string detail, std::int64_t now) {
  return Finding{0, b.seat_id, from, to, kind, std::move(detail), now, false};
}

// prev an event at `seq` must carry given what is stored before it; nullopt = predecessor unknown.
std::optional<std::string> expected_prev(StoreTxn& txn, const std::string& seat,
                                         std::uint64_t seq) {
  if (seq == 1) return std::string(kGenesisPrev);
  auto pred = txn.events_at(seat, seq - 1);
  if (pred.empty()) return std::nullopt;
  return pred.front().chain_hash;
}

}  // namespace

std::variant<Applied, Rejection> apply_batch(StoreTxn& txn, const Batch& b, std::int64_t now) {
  SeatRecord seat = txn.seat(b.seat_id).value_or(SeatRecord{});
  if (seat.seat_id.empty()) {
    seat.seat_id = b.seat_id;
    seat.first_seen_ms = now;
  }
  if (seat.first_seen_ms == 0) seat.first_seen_ms = now;
  // Pin the first key seen (or the one registered at enrollment); a different key is refused.
  if (seat.pubkey_b64.empty())
    seat.pubkey_b64 = b.head.pubkey_b64;
  else if (seat.pubkey_b64 != b.head.pubkey_b64)
    return Rejection{403, "X-Seatlock-Key: seat \"" + b.seat_id + "\" is pinned to a different key",
                     0};

  Applied a;
  a.last_seq = b.events.back().seq;
  txn.prefetch(b.seat_id, b.events);
  bool filled_old = false;
  for (const StoredEvent& e : b.events) {
    if (!txn.insert_event(e)) {
      ++a.duplicates;
      auto stored = txn.line_by_id(e.id);
      if (stored && *stored != e.line)
        note(a, txn,
             finding(b, e.seq, e.seq, "conflict",
                     "event id " + e.id + " re-sent with different content", now));
      continue;
    }
    ++a.stored;
    if (e.seq > seat.last_seq) {
      // New territory: the predecessor is the seat's last stored event (or the previous line).
      if (seat.last_seq > 0 && e.seq > seat.last_seq + 1)
        note(a, txn,
             finding(b, seat.last_seq + 1, e.seq - 1, "gap",
                     "seq " + std::to_string(seat.last_seq + 1) + ".." + std::to_string(e.seq - 1) +
                         " not received before seq " + std::to_string(e.seq),
                     now));
      else if (seat.last_seq == 0 && e.seq > 1)
        note(a, txn,
             finding(b, 1, e.seq - 1, "gap",
                     "first event received is seq " + std::to_string(e.seq) + "; seq 1.." +
                         std::to_string(e.seq - 1) + " not received",
                     now));
      std::optional<std::string> want;
      if (e.seq == 1)
        want = kGenesisPrev;
      else if (e.seq == seat.last_seq + 1)
        want = seat.last_hash;
      if (want && *want != e.prev)
        note(a, txn,
             finding(b, e.seq, e.seq, "break",
                     "prev of seq " + std::to_string(e.seq) +
                         " does not match the chain hash of seq " + std::to_string(e.seq - 1),
                     now));
      seat.last_seq = e.seq;
      seat.last_hash = e.chain_hash;
    } else {
      // Fills an earlier position (late re-send) or collides with a stored seq.
      filled_old = true;
      auto same = txn.events_at(b.seat_id, e.seq);
      if (same.size() > 1)
        note(a, txn,
             finding(b, e.seq, e.seq, "conflict",
                     "seq " + std::to_string(e.seq) + " received with two different event ids",
                     now));
      if (auto want = expected_prev(txn, b.seat_id, e.seq); want && *want != e.prev)
        note(a, txn,
             finding(b, e.seq, e.seq, "break",
                     "prev of seq " + std::to_string(e.seq) +
                         " does not match the chain hash of seq " + std::to_string(e.seq - 1),
                     now));
      auto succ = txn.events_at(b.seat_id, e.seq + 1);
      if (!succ.empty() && succ.front().prev != e.chain_hash)
        note(a, txn,
             finding(b, e.seq + 1, e.seq + 1, "break",
                     "prev of seq " + std::to_string(e.seq + 1) +
                         " does not match the chain hash of seq " + std::to_string(e.seq),
                     now));
    }
    if (e.time_ms >= seat.last_event_ms) {
      seat.last_event_ms = e.time_ms;
      seat.last_event_kind = e.kind;
    }
    if (e.kind == "agent.heartbeat" && e.time_ms > seat.last_heartbeat_ms) {
      seat.prev_heartbeat_ms = seat.last_heartbeat_ms;
      seat.last_heartbeat_ms = e.time_ms;
    }
  }
  if (filled_old) {
    for (const Finding& g : txn.open_gaps(b.seat_id))
      if (txn.count_in_range(b.seat_id, g.seq_from, g.seq_to) == g.seq_to - g.seq_from + 1)
        txn.resolve_finding(g.id);
  }
  seat.last_received_ms = now;
  txn.add_chain_head(b.head);
  txn.put_seat(seat);
  return a;
}

}  // namespace seatlock::collector
