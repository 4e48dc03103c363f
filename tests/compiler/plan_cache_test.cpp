#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compiler/plan_cache.h"
#include "testdata.h"

namespace strata::ir {
namespace {

std::unique_ptr<Model> Load(const std::string& path) {
  auto m = Model::Load(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

TEST(PlanCache, ModelHashFollowsContentNotTheObject) {
  STRATA_REQUIRE_TESTDATA();
  const std::string q8 = testing::TestDataPath("models/tiny-llama-q8_0.gguf");
  EXPECT_EQ(ModelHash(*Load(q8)), ModelHash(*Load(q8)));
  EXPECT_NE(ModelHash(*Load(q8)), ModelHash(*Load(testing::TestDataPath("models/tiny-llama-q4_0.gguf"))));
  // One byte of the first tensor's data changed: another model.
  std::string bytes;
  {
    std::ifstream in(q8, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto model = Load(q8);
  bytes[model->gguf_file()->data_offset()] ^= 1;
  const std::string copy = testing::ScratchDir() + "/changed.gguf";
  std::ofstream(copy, std::ios::binary) << bytes;
  EXPECT_NE(ModelHash(*Load(copy)), ModelHash(*model));
}

TEST(PlanCache, SameModelAndOptionsHitOthersMiss) {
  STRATA_REQUIRE_TESTDATA();
  const std::string q8 = testing::TestDataPath("models/tiny-llama-q8_0.gguf");
  auto a = Load(q8);
  auto b = Load(q8);
  PlanCache cache;
  auto first = cache.GetOrCompile(*a, {.passes = DefaultPasses()});
  ASSERT_TRUE(first.ok());
  auto again = cache.GetOrCompile(*b, {.passes = DefaultPasses()});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(first->get(), again->get());
  EXPECT_EQ(cache.hits(), 1);
  auto unfused = cache.GetOrCompile(*a, {});
  auto split = cache.GetOrCompile(*a, {.passes = DefaultPasses(), .tp = 2});
  ASSERT_TRUE(unfused.ok() && split.ok());
  EXPECT_NE(unfused->get(), first->get());
  EXPECT_EQ((*split)->size(), 2u);
  EXPECT_EQ(cache.misses(), 3);
  EXPECT_EQ(OptionsKey({.passes = {"fuse_rope"}, .tp = 2, .device_lacks = {"rope"}}), "passes=fuse_rope;tp=2;only=-1;lacks=rope");
  // Pipeline stages and a single rank's plan are other plans.
  EXPECT_EQ(OptionsKey({.tp = 2, .only_rank = 3, .pp = 2}), "passes=;tp=2;only=3;lacks=;pp=2");
}

}  // namespace
}  // namespace strata::ir
