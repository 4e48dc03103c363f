// A fixture for the tests that run tensor-parallel and pipeline ranks: the tiny f32 Llama with the float
// activation path (so ranks and one process compare within rounding), and its plans for any split.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "compiler/pass_manager.h"
#include "model/model.h"
#include "runtime/kernels/quant_matmul.h"
#include "testdata.h"

namespace strata::testing {

class TinyLlamaRanksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STRATA_REQUIRE_TESTDATA();
    kernels::SetQuantizedActivations(false);
    auto m = Model::Load(TestDataPath("models/tiny-llama-f32.gguf"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  void TearDown() override { kernels::SetQuantizedActivations(true); }

  std::vector<ir::Plan> Plans(int tp, int pp = 1) {
    auto ranks = ir::Compile(*model_, {.passes = ir::DefaultPasses(), .tp = tp, .pp = pp});
    EXPECT_TRUE(ranks.ok()) << ranks.status().ToString();
    return std::move(ranks).value();
  }

  std::unique_ptr<Model> model_;
};

}  // namespace strata::testing
