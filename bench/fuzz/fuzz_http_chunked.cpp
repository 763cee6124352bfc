// Collector: a request body (chunked or Content-Length) as the server parses it (Beast's
// request_parser with the route's body limit: collector/src/http_parse.hpp), fed in arbitrary
// pieces as TCP delivers them. Invariants: the decoded body never exceeds the limit; the result
// does not depend on how the input was split.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "http_parse.hpp"

using seatlock::collector::parse_request_bytes;
using seatlock::collector::ParseOutcome;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  seatlock::fuzz::Bytes in(data, size);
  const std::size_t limit = in.u16();  // small limits reach the limit checks
  std::vector<std::size_t> splits;
  for (int i = 0, n = in.byte() % 8; i < n; ++i) splits.push_back(in.byte());
  // A fixed chunked head, so that the fuzzer spends its time on the body.
  std::string input = "POST /v1/events HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n";
  if (!splits.empty() && splits[0] % 2) input = "POST /v1/events HTTP/1.1\r\nHost: c\r\n";
  input += std::string(in.rest());

  ParseOutcome whole = parse_request_bytes(input, limit);
  ParseOutcome pieces = parse_request_bytes(input, limit, splits);
  for (const auto* o : {&whole, &pieces})
    FUZZ_CHECK(o->request.body.size() <= limit,
               "decoded body of " + std::to_string(o->request.body.size()) +
                   " bytes exceeds the limit of " + std::to_string(limit));
  if (whole.state == ParseOutcome::State::more) return 0;  // incomplete: nothing to compare
  FUZZ_CHECK(pieces.state == whole.state && pieces.request.body == whole.request.body &&
                 pieces.error == whole.error && pieces.too_large == whole.too_large &&
                 (whole.state != ParseOutcome::State::done || pieces.consumed == whole.consumed),
             "split feeding differs from whole feeding: state " + std::to_string(int(whole.state)) +
                 " vs " + std::to_string(int(pieces.state)) + ", error '" + whole.error + "' vs '" +
                 pieces.error + "'");
  return 0;
}
