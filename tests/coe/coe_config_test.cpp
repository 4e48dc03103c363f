// The CoE config: a good file parses (paths against its folder, JSON too), and each kind of bad file is an
// error naming the field or file at fault.
#include <gtest/gtest.h>

#include <fstream>

#include "coe/coe_config.h"
#include "four_experts.h"

namespace strata::coe {
namespace {

std::string Dir() { return testing::TestDataPath("experts"); }

std::string Error(const std::string& yaml) {
  auto c = ParseCoeConfig(yaml, Dir());
  EXPECT_FALSE(c.ok()) << yaml;
  return c.ok() ? "" : c.status().message();
}

const char* kOneExpert = "name: x\nram_budget: 64MiB\nexperts:\n  - {name: c, model: expert-c-code-q8_0.gguf}\n";

TEST(CoeConfig, TheFourExpertsConfigParses) {
  STRATA_REQUIRE_TESTDATA();
  auto c = testing::FourExperts();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->name, "four-experts");
  EXPECT_EQ(c->ram_budget, 64 << 20);
  EXPECT_EQ(c->kv_per_expert, 4 << 20);
  EXPECT_EQ(c->router.method, "likelihood");
  EXPECT_EQ(c->router.shortlist, 3);
  ASSERT_EQ(c->experts.size(), 4u);
  EXPECT_EQ(c->experts[2].name, "legal");
  EXPECT_EQ(c->experts[2].model, std::filesystem::path(Dir()) / "expert-legal-q8_0.gguf");
  EXPECT_EQ(c->experts[0].examples.size(), 7u);
}

TEST(CoeConfig, JsonIsYamlToo) {
  STRATA_REQUIRE_TESTDATA();
  auto c = ParseCoeConfig(R"({"name": "j", "ram_budget": "1GB", "router": {"method": "lexical"},
    "experts": [{"name": "p", "model": "expert-prose-q8_0.gguf", "examples": ["a", "b"]}]})", Dir());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->ram_budget, 1000000000);
  EXPECT_EQ(c->experts[0].examples.size(), 2u);
  EXPECT_EQ(c->router.method, "lexical");
}

TEST(CoeConfig, LoadResolvesPathsAgainstTheFilesFolder) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = testing::ScratchDir() + "/coe.yaml";
  std::ofstream(path) << "name: f\nram_budget: 1MiB\nexperts:\n  - {name: a, model: " << Dir()
                      << "/expert-legal-q8_0.gguf}\n  - {name: b, model: missing.gguf}\n";
  auto c = LoadCoeConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(path), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("experts[1] (b)"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find(testing::ScratchDir() + "/missing.gguf' does not exist"), std::string::npos)
      << c.status().message();
}

TEST(CoeConfig, BadFilesNameTheirFault) {
  STRATA_REQUIRE_TESTDATA();
  ASSERT_TRUE(ParseCoeConfig(kOneExpert, Dir()).ok());
  EXPECT_NE(Error("name: x\nram_budget: [1\n").find("line"), std::string::npos);
  EXPECT_NE(Error("- 1\n- 2\n").find("must be a mapping"), std::string::npos);
  EXPECT_NE(Error("ram_budget: 1MiB\nexperts: []\n").find("'name' is required"), std::string::npos);
  EXPECT_NE(Error("name: x\nexperts: []\n").find("'ram_budget' is required"), std::string::npos);
  EXPECT_NE(Error("name: x\nram_budget: 1MiB\nexperts: []\n").find("non-empty list of experts"), std::string::npos);
  EXPECT_NE(Error("name: x\nram_budget: lots\nexperts: []\n").find("ram_budget"), std::string::npos);
  EXPECT_NE(Error("name: x\nram_budget: 0\nexperts: []\n").find("must be positive"), std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "colour: red\n").find("unknown field 'colour'"), std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "  - {name: c, model: expert-legal-q8_0.gguf}\n").find("'c' is taken"),
            std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "  - {name: auto, model: expert-legal-q8_0.gguf}\n").find("is taken"),
            std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "  - {name: d}\n").find("experts[1] (d): 'model' is required"),
            std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "  - {name: d, model: expert-legal-q8_0.gguf, examples: 3}\n").find("list of strings"),
            std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "router: {method: telepathy}\n").find("'telepathy'"), std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "router: {method: embedding}\n").find("needs a 'model'"),
            std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "router: {method: likelihood, shortlist: 1}\n").find("'shortlist'"),
            std::string::npos);
  EXPECT_NE(Error(std::string(kOneExpert) + "router: {model: nope.gguf}\n").find("nope.gguf' does not exist"),
            std::string::npos);
}

TEST(CoeConfig, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096);
  EXPECT_EQ(*ParseByteSize("512MiB"), int64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("1.5 GiB"), int64_t{3} << 29);
  EXPECT_EQ(*ParseByteSize("2GB"), 2000000000);
  EXPECT_EQ(*ParseByteSize("8K"), 8192);
  EXPECT_FALSE(ParseByteSize("-1MiB").ok());
  EXPECT_FALSE(ParseByteSize("1.5").ok());
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
  EXPECT_FALSE(ParseByteSize("1e30").ok());
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("nan").ok());
}

}  // namespace
}  // namespace strata::coe
