#include "verify.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "ingest.hpp"
#include "signing.hpp"

namespace seatlock::collector {
namespace {

std::string s(std::uint64_t v) {
  return std::to_string(v);
}

// The chain hash recomputed from the stored line, or an explanation of why it cannot be.
struct Recheck {
  std::optional<std::string> hash;
  std::string problem;
};

Recheck recheck(const StoredEvent& e) {
  nlohmann::json j;
  if (auto fail = parse_json_bounded(e.line, j, kEventJsonLimits))
    return {std::nullopt, "stored line is not valid JSON: " + fail->message};
  Event ev;
  auto errors = event_from_json(j, ev);
  if (!errors.empty())
    return {std::nullopt, "stored line no longer passes the schema: " + errors.front()};
  std::string h = line_chain_hash(e.line, j, ev);
  if (ev.seat_id != e.seat_id || ev.seq != e.seq || ev.id != e.id || ev.time != e.time_ms ||
      ev.kind != e.kind || ev.severity != e.severity ||
      (ev.user ? ev.user->name : "") != e.user_name || ev.prev != e.prev)
    return {h, "indexed columns differ from the stored line"};
  if (h != e.chain_hash) return {h, "stored line does not hash to the value recorded at ingest"};
  return {h, ""};
}

}  // namespace

SeatVerification verify_seat(EventStore& store, const SeatRecord& seat,
                             std::optional<std::int64_t> since_ms,
                             std::optional<std::int64_t> until_ms) {
  SeatVerification v;
  v.seat_id = seat.seat_id;
  std::map<std::uint64_t, Problem> by_seq;  // one report per seq (first cause wins)
  std::vector<Problem> ranges;
  auto report = [&](std::uint64_t seq, const char* what, std::string detail) {
    by_seq.try_emplace(seq, Problem{seq, seq, what, std::move(detail)});
  };
  std::map<std::uint64_t, std::string> hash_at;  // seq -> chain hash recorded at ingest

  std::optional<StoredEvent> prev;
  bool first = true;
  store.scan_seat(seat.seat_id, since_ms, until_ms, [&](const StoredEvent& e) {
    ++v.events;
    if (first) v.first_seq = e.seq;
    v.last_seq = std::max(v.last_seq, e.seq);
    Recheck r = recheck(e);
    if (!r.problem.empty()) report(e.seq, "altered", r.problem);
    if (prev && prev->seq == e.seq) {
      report(e.seq, "duplicate",
             "two different events stored with this seq (ids " + prev->id + ", " + e.id + ")");
      return;
    }
    hash_at[e.seq] = e.chain_hash;
    // Predecessor: the previous row, or (at the start of a time window) whatever is stored.
    std::optional<std::string> pred_hash;
    if (e.seq == 1) {
      pred_hash = kGenesisPrev;
    } else if (prev && prev->seq == e.seq - 1) {
      pred_hash = prev->chain_hash;
    } else if (prev) {
      ranges.push_back(Problem{prev->seq + 1, e.seq - 1, "missing", "not in the store"});
    } else if (auto p = store.event_at(seat.seat_id, e.seq - 1)) {
      pred_hash = p->chain_hash;
    } else if (!since_ms) {
      ranges.push_back(
          Problem{1, e.seq - 1, "missing", "not in the store (the seat's chain starts at seq 1)"});
    } else {
      ranges.push_back(
          Problem{e.seq - 1, e.seq - 1, "missing", "predecessor of the first event in the range"});
    }
    if (pred_hash && *pred_hash != e.prev) {
      if (e.seq == 1)
        report(e.seq, "altered", "prev is not the genesis value");
      else
        report(e.seq - 1, "altered",
               "chain broken between seq " + s(e.seq - 1) + " and " + s(e.seq) + ": prev of seq " +
                   s(e.seq) + " does not match the chain hash of seq " + s(e.seq - 1));
    }
    prev = e;
    first = false;
  });
  // The seat's newest event must still be there (nothing deleted from the end).
  if (!until_ms && seat.last_seq > v.last_seq && (v.events > 0 || !since_ms))
    ranges.push_back(Problem{v.last_seq + 1, seat.last_seq, "missing",
                             "the seat's last stored seq is " + s(seat.last_seq)});

  std::string pinned;
  base64_decode(seat.pubkey_b64, pinned);
  for (const ChainHead& h : store.chain_heads(seat.seat_id)) {
    bool inside = v.events > 0 && h.seq >= v.first_seq && h.seq <= v.last_seq;
    bool beyond = !until_ms && h.seq > v.last_seq && (!since_ms || v.events > 0);
    if (!inside && !beyond) continue;
    ++v.heads_checked;
    std::string sig;
    if (h.pubkey_b64 != seat.pubkey_b64 || !base64_decode(h.signature_b64, sig) ||
        !ed25519_verify(pinned, chain_head_message(seat.seat_id, h.seq, h.hash), sig)) {
      report(h.seq, "signature", "signed chain head does not verify with the seat's pinned key");
      continue;
    }
    auto it = hash_at.find(h.seq);
    if (it == hash_at.end()) {
      bool in_range = std::any_of(ranges.begin(), ranges.end(), [&](const Problem& p) {
        return h.seq >= p.seq_from && h.seq <= p.seq_to;
      });
      if (!in_range) report(h.seq, "missing", "named by a signed chain head but not in the store");
    } else if (it->second != h.hash) {
      report(h.seq, "altered", "does not match the signed chain head received with it");
    }
  }
  for (auto& p : ranges) {
    // Single-seq ranges merge with per-seq reports.
    if (p.seq_from == p.seq_to && by_seq.count(p.seq_from)) continue;
    v.problems.push_back(p);
  }
  for (auto& [seq, p] : by_seq) v.problems.push_back(p);
  std::sort(v.problems.begin(), v.problems.end(),
            [](const Problem& a, const Problem& b) { return a.seq_from < b.seq_from; });
  return v;
}

}  // namespace seatlock::collector
