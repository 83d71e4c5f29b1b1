#include "server/dashboard_assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace sagaflow::server {
namespace {

std::string ReadWebFile(const std::string& relative) {
  std::ifstream in(std::string(SAGAFLOW_SOURCE_DIR) + "/web/" + relative, std::ios::binary);
  EXPECT_TRUE(in) << relative;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Each asset is the byte-for-byte copy of its file in web/ at build time.
TEST(DashboardAssets, ServesTheWebFilesVerbatim) {
  const struct {
    const char* path;
    const char* file;
    const char* content_type;
  } kCases[] = {
      {"/", "index.html", "text/html; charset=utf-8"},
      {"/assets/app.js", "app.js", "text/javascript; charset=utf-8"},
      {"/assets/style.css", "style.css", "text/css; charset=utf-8"},
      {"/assets/chart.umd.js", "node_modules/chart.js/dist/chart.umd.js", "text/javascript; charset=utf-8"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.path);
    const StaticAsset* asset = FindDashboardAsset(c.path);
    ASSERT_NE(asset, nullptr);
    EXPECT_EQ(asset->content_type, c.content_type);
    std::string expected = ReadWebFile(c.file);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(asset->body.size(), expected.size());
    EXPECT_TRUE(asset->body == expected);  // not EXPECT_EQ: no 200 kB diff on failure
  }
}

// Everything the page loads from the server is embedded (and nothing from
// elsewhere: no CDN, no external fonts).
TEST(DashboardAssets, PageReferencesOnlyEmbeddedAssets) {
  const StaticAsset* page = FindDashboardAsset("/");
  ASSERT_NE(page, nullptr);
  std::string html(page->body);
  std::regex reference(R"re((?:src|href)="([^"]*)")re");
  int local = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), reference); it != std::sregex_iterator(); ++it) {
    std::string target = (*it)[1].str();
    SCOPED_TRACE(target);
    if (target.rfind("data:", 0) == 0) continue;  // inline (the empty favicon)
    EXPECT_EQ(target.find("//"), std::string::npos) << "external reference";
    ASSERT_EQ(target.rfind("assets/", 0), 0u) << "page files live under assets/";
    EXPECT_NE(FindDashboardAsset("/" + target), nullptr);
    ++local;
  }
  EXPECT_GE(local, 3);  // script, chart library, style sheet
}

TEST(DashboardAssets, UnknownPathsAreNotFound) {
  for (const char* path : {"", "/index.html", "/assets/", "/assets", "/assets/app.js/", "/assets/../index.html",
                           "/app.js", "/assets/chart.umd.js.map", "/ASSETS/app.js", "assets/app.js"}) {
    EXPECT_EQ(FindDashboardAsset(path), nullptr) << path;
  }
}

}  // namespace
}  // namespace sagaflow::server
