// The analysts' dashboard (web/): its built files, embedded into the binary
// at build time so `serve` needs no files and no CDN at run time.
#pragma once

#include <string_view>

namespace sagaflow::server {

struct StaticAsset {
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;          // static storage: valid for the process's lifetime
};

// The asset served at a request path: "/" is the page itself, other files
// live under "/assets/". nullptr when no asset has that path. Thread-safe.
const StaticAsset* FindDashboardAsset(std::string_view path) noexcept;

}  // namespace sagaflow::server
