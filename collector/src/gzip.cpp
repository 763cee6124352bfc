#include "gzip.hpp"

#include <zlib.h>

#include <stdexcept>

namespace seatlock::collector {

GunzipResult gunzip(std::string_view in, std::string& out, std::size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return GunzipResult::corrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.clear();
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return GunzipResult::corrupt;
    }
    size_t got = sizeof buf - zs.avail_out;
    if (out.size() + got > max_out) {
      inflateEnd(&zs);
      return GunzipResult::too_large;
    }
    out.append(buf, got);
    if (rc == Z_OK && got == 0 && zs.avail_in == 0) {  // truncated stream
      inflateEnd(&zs);
      return GunzipResult::corrupt;
    }
  }
  inflateEnd(&zs);
  return GunzipResult::ok;
}

std::string gzip_compress(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
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
