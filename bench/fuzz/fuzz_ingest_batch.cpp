// Collector: one POST /v1/events body through parse_batch (collector/src/ingest.hpp) on a stack
// the size of a connection thread's. Half the inputs get headers signed for the batch's last
// event, so the accepting path (chain head, Ed25519) is reached, not only the refusals.
// Invariants: an accepted batch has ascending seq, every event is the authenticated seat's, and
// each stored chain hash equals the one the verifier recomputes from the stored line.
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "fuzz_support.hpp"
#include "ingest.hpp"
#include "signing.hpp"

namespace collector = seatlock::collector;
using nlohmann::json;

namespace {

const collector::Ed25519Key& key() {
  static const collector::Ed25519Key k = collector::ed25519_generate();
  return k;
}

// Signed headers naming the last line's event (best effort: lines that do not parse keep the
// placeholder headers, which parse_batch must refuse).
collector::BatchHeaders headers_for(std::string_view body, const std::string& seat) {
  collector::BatchHeaders h{"AAAA", "1 00", "AAAA"};
  std::string_view last = body;
  while (!last.empty() && last.back() == '\n') last.remove_suffix(1);
  if (auto nl = last.rfind('\n'); nl != std::string_view::npos) last.remove_prefix(nl + 1);
  if (!last.empty() && last.back() == '\r') last.remove_suffix(1);
  try {
    json j = json::parse(last);
    seatlock::Event ev;
    if (!seatlock::event_from_json(j, ev).empty()) return h;
    const std::string hash = collector::line_chain_hash(last, j, ev);
    const std::string sig = collector::ed25519_sign(
        key().raw_private, collector::chain_head_message(seat, ev.seq, hash));
    h.key_b64 = seatlock::base64_encode(key().raw_public);
    h.chain_head = std::to_string(ev.seq) + " " + hash;
    h.signature_b64 = seatlock::base64_encode(sig);
  } catch (const json::exception&) {
  }
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool sign = data[0] & 1;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string seat = "seat-01";
  seatlock::fuzz::run_on_stack(seatlock::fuzz::kCollectorStack, [&] {
    const auto headers = sign ? headers_for(body, seat) : collector::BatchHeaders{};
    std::variant<collector::Batch, collector::Rejection> r;
    try {
      r = collector::parse_batch(body, seat, headers, 1'800'000'000'000);
    } catch (const json::out_of_range& e) {  // 1e400 in a line: escapes to the thread and aborts
      FUZZ_CHECK(seatlock::fuzz::tolerated("json-number-overflow"),
                 std::string("parse_batch throws: ") + e.what());
      return;
    }
    if (auto* rej = std::get_if<collector::Rejection>(&r)) {
      FUZZ_CHECK(rej->status == 400 || rej->status == 403, rej->message);
      FUZZ_CHECK(!rej->message.empty(), "rejection without a message");
      return;
    }
    const auto& batch = std::get<collector::Batch>(r);
    FUZZ_CHECK(!batch.events.empty(), "accepted an empty batch");
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      const auto& e = batch.events[i];
      FUZZ_CHECK(e.seat_id == seat, "accepted another seat's event");
      FUZZ_CHECK(i == 0 || e.seq > batch.events[i - 1].seq, "accepted descending seq");
      json j = json::parse(e.line);
      seatlock::Event ev;
      FUZZ_CHECK(seatlock::event_from_json(j, ev).empty(), "stored line no longer reads");
      FUZZ_CHECK(collector::line_chain_hash(e.line, j, ev) == e.chain_hash,
                 "chain hash not reproducible from the stored line");
    }
    FUZZ_CHECK(batch.head.seq == batch.events.back().seq, "chain head is not the last event");
  });
  return 0;
}
