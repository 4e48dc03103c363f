// The web chat page at /: the page file byte for byte (embedded at build time), served as HTML without the API
// key, loading nothing from another host; and the 404 of any unknown path when the page is off. The page's
// behaviour in a browser is tests/server/webui_test.mjs.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "local_server.h"
#include "server/webui.h"

namespace strata::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ServerWebui, EmbedsThePageFileByteForByte) {
  const std::string file = ReadFile(std::string(STRATA_SOURCE_DIR) + "/src/server/webui/index.html");
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(std::string(WebUiPage()), file);  // multi-byte UTF-8 (…, ▍) included: the embedding is raw bytes
}

TEST(ServerWebui, ServedAtRootAsHtmlWithoutTheKey) {
  STRATA_REQUIRE_TESTDATA();
  LocalServer server(ServerOptions{.api_key = "secret"});
  auto c = server.Client();
  for (const char* path : {"/", "/index.html"}) {
    auto res = c.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(res->body, std::string(WebUiPage())) << path;
    const std::string csp = res->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
  }
  auto models = c.Get("/v1/models");  // what the page's script calls still needs the key
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 401);
}

TEST(ServerWebui, PageReferencesNoOtherHost) {
  const std::string page(WebUiPage());
  ASSERT_NE(page.find("<script>"), std::string::npos);
  // Not even a link in a comment: the page works offline and is the whole app.
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  // No resource from elsewhere, protocol-relative (//host/...) included: script src, link href, CSS url(),
  // @import (data: URLs are inline), and no fetch but to a relative URL of this server.
  const std::regex external(
      R"re((src|href)\s*=\s*["']?\s*(?!data:)(\w+:|//)|url\(\s*["']?\s*(?!data:)(\w+:|//)|@import|fetch\(\s*["'`](\w+:|/))re",
                            std::regex::icase);
  std::smatch m;
  EXPECT_FALSE(std::regex_search(page, m, external)) << m.str();
  EXPECT_NE(page.find("'v1/chat/completions'"), std::string::npos);
  EXPECT_NE(page.find("'v1/models'"), std::string::npos);
}

TEST(ServerWebui, OffLeavesRootTo404) {
  STRATA_REQUIRE_TESTDATA();
  LocalServer server(ServerOptions{.webui = false});
  auto c = server.Client();
  for (const char* path : {"/", "/index.html"}) {
    auto res = c.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    const auto body = nlohmann::json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << res->body;
    EXPECT_EQ(body["error"]["type"], "not_found_error");
  }
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace strata::testing
