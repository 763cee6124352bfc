#pragma once
// gzip (RFC 1952) both ways, shared by the agent (request bodies it sends) and the collector
// (request bodies it accepts). Decoding has a hard cap on the decoded size, so a small body
// cannot expand without bound (a "gzip bomb").
#include <cstddef>
#include <string>
#include <string_view>

namespace seatlock {

// Throws std::runtime_error when zlib fails.
std::string gzip_compress(std::string_view in);

enum class GunzipResult { ok, too_large, corrupt };
// Decodes one gzip member into `out` (replacing what it held). too_large as soon as more than
// `max_out` bytes would come out; corrupt for anything that is not a whole gzip stream
// (a zlib or raw deflate stream, a truncated one, a bad checksum).
GunzipResult gunzip(std::string_view in, std::string& out, std::size_t max_out);

}  // namespace seatlock
