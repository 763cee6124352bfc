// gzip decoding (agent/core/gzip/gzip.hpp: the collector's request bodies from seats, the
// agent's tests). Invariants: the cap holds; the cap changes only where decoding stops, never
// what is decoded; compress -> gunzip round-trips, and one byte less room is too_large.
#include <string>

#include "core/gzip/gzip.hpp"
#include "fuzz_support.hpp"

using seatlock::gunzip;
using seatlock::GunzipResult;
using seatlock::gzip_compress;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  seatlock::fuzz::Bytes in(data, size);
  const std::size_t cap = in.u16() % 8192 + 1;  // small caps, so bombs hit the limit quickly
  const std::string_view body = in.rest();

  std::string out;
  const GunzipResult r = gunzip(body, out, cap);
  // deflate expands at most about 1032:1, so this cap never cuts a fuzz input short.
  std::string full;
  const GunzipResult r_full = gunzip(body, full, body.size() * 1100 + 1024);
  if (r == GunzipResult::ok) {
    FUZZ_CHECK(out.size() <= cap, "gunzip ok with " + std::to_string(out.size()) +
                                      " bytes over a cap of " + std::to_string(cap));
    FUZZ_CHECK(r_full == GunzipResult::ok && full == out,
               "a larger cap decodes the same stream differently");
  } else if (r == GunzipResult::too_large) {
    FUZZ_CHECK(r_full != GunzipResult::ok || full.size() > cap,
               "too_large for a stream that fits the cap");
  } else {
    FUZZ_CHECK(r_full == GunzipResult::corrupt, "corrupt under a small cap only");
  }

  // Round trip of the input itself.
  std::string back;
  FUZZ_CHECK(gunzip(gzip_compress(body), back, body.size()) == GunzipResult::ok && back == body,
             "gzip -> gunzip does not round-trip");
  if (!body.empty()) {
    FUZZ_CHECK(gunzip(gzip_compress(body), back, body.size() - 1) == GunzipResult::too_large,
               "one byte over the cap is not too_large");
  }
  return 0;
}
