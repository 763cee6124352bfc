#pragma once
// gzip decoding with a hard cap on the decoded size (a small body must not expand unbounded).
#include <cstddef>
#include <string>
#include <string_view>

namespace seatlock::collector {

enum class GunzipResult { ok, too_large, corrupt };
GunzipResult gunzip(std::string_view in, std::string& out, std::size_t max_out);

// For clients/tests: gzip-compress `in`.
std::string gzip_compress(std::string_view in);

}  // namespace seatlock::collector
