#pragma once
// gzip (RFC 1952) compression of a request body.
#include <string>
#include <string_view>

namespace seatlock {

// Throws std::runtime_error when zlib fails.
std::string gzip_compress(std::string_view data);
// For tests and the fake collector: inflates gzip or returns nullopt-like empty on error.
bool gzip_decompress(std::string_view data, std::string& out);

}  // namespace seatlock
