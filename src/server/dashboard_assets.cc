#include "server/dashboard_assets.h"

#include <array>
#include <cstddef>
#include <string_view>

namespace sagaflow::server {
namespace {

struct EmbeddedFile {
  std::string_view path;
  std::string_view body;
};

// kEmbeddedFiles: web/index.html at "/", the page's scripts, style sheet and
// the chart library under "/assets/". Generated at build time from web/ by
// embed_files.cmake (see dashboard_assets.cmake).
#include "dashboard_files.inc"

constexpr bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "/" is the page; other assets are typed by their extension. A file type not
// listed here fails the build (the throw makes the table non-constant).
constexpr std::string_view ContentTypeOf(std::string_view path) {
  if (path == "/" || EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(path, ".js") || EndsWith(path, ".mjs")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(path, ".svg")) return "image/svg+xml";
  if (EndsWith(path, ".png")) return "image/png";
  throw "dashboard asset with an unknown content type";
}

struct Entry {
  std::string_view path;
  StaticAsset asset;
};

constexpr auto kAssets = [] {
  std::array<Entry, std::size(kEmbeddedFiles)> assets{};
  for (std::size_t i = 0; i < assets.size(); ++i) {
    assets[i] = {kEmbeddedFiles[i].path, StaticAsset{ContentTypeOf(kEmbeddedFiles[i].path), kEmbeddedFiles[i].body}};
  }
  return assets;
}();

}  // namespace

const StaticAsset* FindDashboardAsset(std::string_view path) noexcept {
  // A handful of files: a linear scan beats any index.
  for (const Entry& entry : kAssets) {
    if (entry.path == path) return &entry.asset;
  }
  return nullptr;
}

}  // namespace sagaflow::server
