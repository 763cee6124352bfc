#include "console/assets.hpp"

// The table itself is generated at build time (console_assets_data.cpp in the build tree).
namespace seatlock::collector::console::embedded {
extern const Asset kAssets[];
extern const std::size_t kAssetCount;
}  // namespace seatlock::collector::console::embedded

namespace seatlock::collector::console {

const Asset* find_asset(std::string_view path) {
  if (path == "/console" || path == "/console/") path = "/console/index.html";
  for (std::size_t i = 0; i < embedded::kAssetCount; ++i) {
    if (embedded::kAssets[i].path == path) return &embedded::kAssets[i];
  }
  return nullptr;
}

std::size_t asset_count() {
  return embedded::kAssetCount;
}

const Asset& asset_at(std::size_t i) {
  return embedded::kAssets[i];
}

}  // namespace seatlock::collector::console
