// Model: weights by name, and a clear error (never an empty tensor) for a name the model lacks.
#include <gtest/gtest.h>

#include "model/model.h"
#include "testdata.h"

namespace strata::testing {
namespace {

TEST(Model, WeightByNameAndMissingWeightIsAnError) {
  STRATA_REQUIRE_TESTDATA();
  auto model = Model::Load(TestDataPath("models/tiny-llama-q8_0.gguf"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto embd = (*model)->Weight("token_embd.weight");
  ASSERT_TRUE(embd.ok()) << embd.status().ToString();
  EXPECT_EQ((*embd)->dim(0), (*model)->config().n_vocab);
  auto missing = (*model)->Weight("blk.99.attn_q.weight");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("blk.99.attn_q.weight"), std::string::npos);
}

}  // namespace
}  // namespace strata::testing
