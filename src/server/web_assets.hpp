#pragma once
// The dashboard's files (web/*), embedded into the binary at build time: cmake/embed-web.cmake
// writes their bytes into a generated web_assets.cpp. Private to the server room.

#include <cstddef>
#include <string_view>

namespace plumetrace::server::web {

struct Asset {
  std::string_view name;          ///< file name under web/ ("index.html", "app.js", ...)
  std::string_view content_type;  ///< from the extension
  std::string_view body;          ///< the file's bytes
};

extern const Asset kAssets[];
extern const std::size_t kAssetCount;

/// The embedded file `name`, or nullptr.
inline const Asset* find_asset(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kAssetCount; ++i)
    if (kAssets[i].name == name) return &kAssets[i];
  return nullptr;
}

}  // namespace plumetrace::server::web
