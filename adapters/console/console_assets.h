// The console's static files (adapters/console/web/), compiled into the binary by
// embed_assets.cmake: no files on disk, no CDN, nothing downloaded at run time.
//
// Thread-safety: constant data.
#pragma once

#include <cstddef>
#include <string_view>

namespace ordersync {

struct ConsoleAsset {
  std::string_view path;          // "/index.html", "/console.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

extern const ConsoleAsset kConsoleAssets[];
extern const size_t kConsoleAssetCount;

// The asset served at `path`, or null.
inline const ConsoleAsset* FindConsoleAsset(std::string_view path) {
  for (size_t i = 0; i < kConsoleAssetCount; ++i) {
    if (kConsoleAssets[i].path == path) return &kConsoleAssets[i];
  }
  return nullptr;
}

}  // namespace ordersync
