// `strata serve --coe` refuses what it cannot serve at start-up, with the reason, before binding a port.
#include <gtest/gtest.h>

#include <fstream>

#include "../cli/cli_runner.h"
#include "testdata.h"

namespace strata::testing {
namespace {

std::string WriteConfig(const std::string& name, const std::string& text) {
  const std::string path = ScratchDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CoeCli, ServeNeedsAModelOrAConfig) {
  auto r = Strata("serve --port 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("give one model (-m) or one Composition of Experts config (--coe)"), std::string::npos) << r.err;
}

TEST(CoeCli, AMissingExpertFileIsNamed) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = WriteConfig("missing.yaml", "name: m\nram_budget: 1GiB\nexperts:\n"
                                                       "  - {name: gone, model: nowhere.gguf}\n");
  auto r = Strata("serve --port 0 --coe " + Quote(path));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("experts[0] (gone): model file '" + ScratchDir() + "/nowhere.gguf' does not exist"),
            std::string::npos)
      << r.err;
}

TEST(CoeCli, ABudgetBelowTheLargestExpertIsRefusedWithTheNumbers) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = WriteConfig("small.yaml", "name: s\nram_budget: 1MiB\nexperts:\n  - {name: legal, model: " +
                                                         TestDataPath("experts/expert-legal-q8_0.gguf") + "}\n");
  auto r = Strata("serve --port 0 --coe " + Quote(path));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ram_budget 1.0 MiB cannot hold expert 'legal', which needs"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::testing
