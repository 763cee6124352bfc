// gzip inflation: the collector's gunzip with its size cap (collector/src/gzip.hpp; request
// bodies from seats) and the agent's gzip_decompress (agent/os/delivery/gzip.hpp; used by the
// fake collector in tests). Invariants: the cap holds; what the collector accepts, the agent
// decodes the same; compress -> inflate round-trips.
#include <string>

#include "fuzz_support.hpp"
#include "gzip.hpp"
#include "os/delivery/gzip.hpp"

namespace collector = seatlock::collector;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  seatlock::fuzz::Bytes in(data, size);
  const std::size_t cap = in.u16() % 8192 + 1;  // small caps, so bombs hit the limit quickly
  const std::string_view body = in.rest();

  std::string out;
  auto r = collector::gunzip(body, out, cap);
  if (r == collector::GunzipResult::ok) {
    FUZZ_CHECK(out.size() <= cap, "gunzip ok with " + std::to_string(out.size()) +
                                      " bytes over a cap of " + std::to_string(cap));
    std::string agent;
    FUZZ_CHECK(seatlock::gzip_decompress(body, agent), "collector accepts, agent refuses");
    FUZZ_CHECK(agent == out, "collector and agent inflate differently");
  }

  // Round trip of the input itself through both compressors.
  std::string back;
  FUZZ_CHECK(collector::gunzip(seatlock::gzip_compress(body), back, body.size()) ==
                     collector::GunzipResult::ok &&
                 back == body,
             "agent gzip -> collector gunzip does not round-trip");
  FUZZ_CHECK(seatlock::gzip_decompress(collector::gzip_compress(body), back) && back == body,
             "collector gzip -> agent gunzip does not round-trip");
  if (!body.empty()) {
    FUZZ_CHECK(collector::gunzip(seatlock::gzip_compress(body), back, body.size() - 1) ==
                   collector::GunzipResult::too_large,
               "one byte over the cap is not too_large");
  }
  return 0;
}
