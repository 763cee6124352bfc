// Events: one NDJSON line through nlohmann's parser and the strict event reader
// (agent/core/event/event.hpp event_from_json), as the collector checks every received line.
// Invariants for an accepted event: to_json -> event_from_json gives the same event; the fast
// canonical writer equals canonical_bytes(to_json(e)); canonical bytes are a fixed point
// (parse + re-serialise changes nothing); RFC 3339 times round-trip through the formatter.
#include <nlohmann/json.hpp>
#include <string>

#include "core/event/event.hpp"
#include "core/util/time.hpp"
#include "fuzz_support.hpp"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto t = seatlock::parse_rfc3339(text)) {
    const std::string formatted = seatlock::format_rfc3339_ms(*t);
    auto again = seatlock::parse_rfc3339(formatted);
    FUZZ_CHECK(again && *again == *t, "time " + std::string(text) + " formats as " + formatted +
                                          " which does not parse back");
  }

  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception&) {
    return 0;  // parse_error, and out_of_range for numbers like 1e9999 (the collector's own
               // parse must catch both: see fuzz_ingest_batch)
  }
  const std::string canon = seatlock::canonical_bytes(j);
  FUZZ_CHECK(seatlock::canonical_bytes(json::parse(canon)) == canon,
             "canonical bytes are not a fixed point: " + canon);

  seatlock::Event ev;
  if (!seatlock::event_from_json(j, ev).empty()) return 0;
  const json back = seatlock::to_json(ev);
  const std::string fast = seatlock::canonical_bytes(ev);
  FUZZ_CHECK(fast == seatlock::canonical_bytes(back),
             "canonical_bytes(Event) differs from canonical_bytes(to_json):\n" + fast + "\n" +
                 seatlock::canonical_bytes(back));
  seatlock::Event ev2;
  auto errors = seatlock::event_from_json(back, ev2);
  FUZZ_CHECK(errors.empty(),
             "to_json of an accepted event is refused: " + errors.front() + "\n" + back.dump());
  FUZZ_CHECK(ev2 == ev, "event changes through to_json/event_from_json: " + back.dump());
  FUZZ_CHECK(seatlock::chain_hash(ev2) == seatlock::chain_hash(ev), "chain hash changes");
  return 0;
}
