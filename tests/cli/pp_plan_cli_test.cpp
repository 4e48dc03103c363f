// `--pp` on the command line: `strata plan` shows each global rank's stage plan (stage * tp + tp rank), and
// the in-process runners refuse stage plans with an error instead of running them as tensor-parallel ranks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace strata::testing {
namespace {

using nlohmann::json;

TEST(PipelineCli, PlanShowsEachGlobalRanksStage) {
  STRATA_REQUIRE_TESTDATA();
  auto text = Strata("plan -m " + Model("f32") + " --pp 2 --rank 1 --print-after-all");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("# after pp_split (rank 1)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("pipeline stage 1 of 2 (layers 2..3, global rank 1)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("= stage_input"), std::string::npos);
  auto r = Strata("plan -m " + Model("f32") + " --format json --tp 2 --pp 2 --rank 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["plan"]["pipeline"]["stage"], 1);
  EXPECT_EQ(j["plan"]["pipeline"]["global_rank"], 2);
  EXPECT_EQ(j["plan"]["tensor_parallel"]["rank"], 0);
  EXPECT_EQ(j["plan"]["kv_cache"]["layers"], 2);
  EXPECT_TRUE(j["memory"]["valid"].get<bool>());
  auto too_many = Strata("plan -m " + Model("f32") + " --pp 5");
  EXPECT_NE(too_many.exit_code, 0);
  EXPECT_NE(too_many.err.find("--pp 5 exceeds the model's 4 layers"), std::string::npos) << too_many.err;
}

TEST(PipelineCli, StagesWithoutMpirunAreAClearError) {
  STRATA_REQUIRE_TESTDATA();
  for (const std::string cmd : {"run -p hello -n 2", "serve --port 0", "bench -p 8 -n 2"}) {
    auto r = Strata(cmd.substr(0, cmd.find(' ')) + " -m " + Model("f32") + " --tp 2 --pp 2" + cmd.substr(cmd.find(' ')));
    EXPECT_NE(r.exit_code, 0) << cmd;
    EXPECT_NE(r.err.find("--pp 2 runs one process per stage: start it with mpirun -np 4"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace strata::testing
