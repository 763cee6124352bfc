// Collector: Transfer-Encoding: chunked decoding (collector/src/http.hpp ChunkedDecoder) with its
// body limit, fed in arbitrary pieces as TCP delivers them. Invariants: the decoded body never
// exceeds the limit; the result does not depend on how the input was split.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "http.hpp"

using seatlock::collector::ChunkedDecoder;

namespace {

struct Outcome {
  ChunkedDecoder::State state;
  std::string body;
  std::string error;
  std::size_t left;  // bytes after the end of the chunked body (the next request)
};

// Feeds `input` in pieces of the given sizes (the last piece takes the rest).
Outcome decode(std::string_view input, const std::vector<std::size_t>& splits, std::size_t limit) {
  ChunkedDecoder dec;
  std::string buf, body;
  std::size_t fed = 0;
  auto state = ChunkedDecoder::State::more;
  for (std::size_t i = 0; i <= splits.size() && state == ChunkedDecoder::State::more; ++i) {
    std::size_t n =
        i < splits.size() ? std::min(splits[i], input.size() - fed) : input.size() - fed;
    buf.append(input.substr(fed, n));
    fed += n;
    state = dec.feed(buf, body, limit);
    FUZZ_CHECK(body.size() <= limit, "decoded body of " + std::to_string(body.size()) +
                                         " bytes exceeds the limit of " + std::to_string(limit));
  }
  return {state, body, dec.error(), buf.size() + (input.size() - fed)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  seatlock::fuzz::Bytes in(data, size);
  const std::size_t limit = in.u16();  // small limits reach the limit checks
  std::vector<std::size_t> splits;
  for (int i = 0, n = in.byte() % 8; i < n; ++i) splits.push_back(in.byte());
  const std::string_view body = in.rest();

  Outcome whole = decode(body, {}, limit);
  Outcome pieces = decode(body, splits, limit);
  if (whole.state == ChunkedDecoder::State::more) return 0;  // incomplete: nothing to compare
  FUZZ_CHECK(pieces.state == whole.state && pieces.body == whole.body &&
                 pieces.error == whole.error &&
                 (whole.state != ChunkedDecoder::State::done || pieces.left == whole.left),
             "split feeding differs from whole feeding: state " + std::to_string(int(whole.state)) +
                 " vs " + std::to_string(int(pieces.state)) + ", error '" + whole.error + "' vs '" +
                 pieces.error + "'");
  return 0;
}
