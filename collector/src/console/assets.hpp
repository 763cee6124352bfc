#pragma once
// The console's static files (collector/console/www/**), compiled into the collector binary by
// collector/console/embed_assets.cmake, so the console needs no installed files and no CDN.
#include <cstddef>
#include <string_view>

namespace seatlock::collector::console {

struct Asset {
  std::string_view path;          // "/console/events.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// The embedded file served at `path`, or nullptr if none. "/console/" and "/console" are the
// login page (index.html).
const Asset* find_asset(std::string_view path);

// Every embedded file (for tests and listings).
std::size_t asset_count();
const Asset& asset_at(std::size_t i);

}  // namespace seatlock::collector::console
