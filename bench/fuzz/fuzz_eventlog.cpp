// TPM attestation: the UEFI event log (binary_bios_measurements) a seat sends to the collector
// with its quote (collector/src/attest/event_log.hpp), through parsing, the sha256 replay and
// the evaluation of what it proves (boot_facts.hpp).
// Invariants: a parse either throws AttestError or yields events whose data fit in the input;
// replay gives eight 32-byte PCRs; facts survive the JSON round trip the baseline store uses,
// and have no differences from themselves.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/boot_facts.hpp"
#include "attest/event_log.hpp"
#include "attest/tpm_keys.hpp"
#include "fuzz_support.hpp"

namespace at = seatlock::collector::attest;

#define CHECK_INV(expr, detail) \
  if (!(expr)) seatlock::fuzz::invariant_failed(#expr, __FILE__, __LINE__, detail)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  at::EventLog log;
  try {
    log = at::parse_event_log(input);
  } catch (const at::AttestError&) {
    return 0;  // refused with a reason: fine
  }
  std::size_t total = 0;
  for (const auto& e : log.events) {
    total += e.data.size();
    CHECK_INV(e.pcr < 24, "PCR index");
    CHECK_INV(e.sha256.empty() || e.sha256.size() == 32, "sha256 digest size");
  }
  CHECK_INV(total <= size, "event data larger than the input");
  auto pcrs = at::replay_sha256(log);
  for (const auto& p : pcrs) CHECK_INV(p.size() == 32, "PCR size");
  try {
    at::BootFacts f = at::evaluate(log);
    at::BootFacts back = at::boot_facts_from_json(at::to_json(f));
    CHECK_INV(at::differences(f, back).empty(), at::to_json(f).dump());
    CHECK_INV(at::differences(f, f).empty(), at::to_json(f).dump());
  } catch (const at::AttestError&) {
  }
  return 0;
}
