#include "gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace seatlock::collector {

GunzipResult gunzip(std::string_view in, std::string& out, std::size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return GunzipResult::corrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.clear();
  // Inflate straight into `out` (no big stack buffer: this runs on small connection stacks).
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    std::size_t used = out.size();
    if (used >= max_out + 1) {
      inflateEnd(&zs);
      return GunzipResult::too_large;
    }
    std::size_t chunk = std::min<std::size_t>(64 * 1024, max_out + 1 - used);
    out.resize(used + chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(used + chunk - zs.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return GunzipResult::corrupt;
    }
    if (out.size() > max_out) {
      inflateEnd(&zs);
      return GunzipResult::too_large;
    }
    if (rc == Z_OK && out.size() == used && zs.avail_in == 0) {  // truncated stream
      inflateEnd(&zs);
      return GunzipResult::corrupt;
    }
  }
  inflateEnd(&zs);
  return GunzipResult::ok;
}

std::string gzip_compress(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(zs.total_out);
  return out;
}

}  // namespace seatlock::collector
