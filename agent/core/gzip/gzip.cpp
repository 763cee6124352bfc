#include "core/gzip/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace seatlock {
namespace {

constexpr int kGzipWindow = 16 + MAX_WBITS;  // 16 + 15: the gzip wrapper, largest window

// Ends the stream on every path.
struct Inflater {
  z_stream zs{};
  bool open = false;
  ~Inflater() {
    if (open) inflateEnd(&zs);
  }
};

}  // namespace

std::string gzip_compress(std::string_view in) {
  z_stream zs{};
  // Z_DEFAULT_COMPRESSION (level 6): zlib's balance of speed and size.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
  return out;
}

GunzipResult gunzip(std::string_view in, std::string& out, std::size_t max_out) {
  out.clear();
  Inflater inf;
  if (inflateInit2(&inf.zs, kGzipWindow) != Z_OK) return GunzipResult::corrupt;
  inf.open = true;
  inf.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  inf.zs.avail_in = static_cast<uInt>(in.size());
  // Room for one byte past the cap, so "exactly max_out" and "more" can be told apart.
  const std::size_t limit = max_out == SIZE_MAX ? max_out : max_out + 1;
  // Inflate straight into `out` (no big stack buffer: the collector runs this on small
  // connection stacks).
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const std::size_t used = out.size();
    if (used >= limit) return GunzipResult::too_large;
    const std::size_t chunk = std::min<std::size_t>(64 * 1024, limit - used);
    out.resize(used + chunk);
    inf.zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    inf.zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&inf.zs, Z_NO_FLUSH);
    out.resize(used + chunk - inf.zs.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END) return GunzipResult::corrupt;
    if (out.size() > max_out) return GunzipResult::too_large;
    if (rc == Z_OK && out.size() == used && inf.zs.avail_in == 0)  // truncated stream
      return GunzipResult::corrupt;
  }
  return GunzipResult::ok;
}

}  // namespace seatlock
