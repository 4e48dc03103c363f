// The op table: every IR op has one complete definition (a unique printed name, a shape rule, a cost), which
// validation, the cost model and the printer read.
#include "compiler/op_defs.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace strata::ir {
namespace {

TEST(OpDefs, EveryOpHasOneCompleteDefinition) {
  std::set<std::string> names;
  for (int i = 0; i < kNumOps; ++i) {
    const OpDef& d = Def(static_cast<Op>(i));
    ASSERT_NE(d.name, nullptr) << "op " << i << " has no definition";
    EXPECT_TRUE(names.insert(d.name).second) << "two ops are named " << d.name;
    EXPECT_NE(d.shape, nullptr) << d.name;
    EXPECT_NE(d.cost, nullptr) << d.name;
    EXPECT_GE(d.arity, 0) << d.name;
    EXPECT_EQ(std::string(OpName(static_cast<Op>(i))), d.name);
  }
}

TEST(OpDefs, LabelsNameTheActivationAndFusions) {
  Node n{.op = Op::kGatedFfn, .act = Activation::kGeluTanh};
  EXPECT_EQ(NodeLabel(n), "geglu");
  n.act = Activation::kSilu;
  n.norm_weight = 0;
  n.residual = true;
  EXPECT_EQ(NodeLabel(n), "rms_norm+swiglu+add");
  EXPECT_EQ(OpLabel(Node{.op = Op::kActivate, .act = Activation::kSigmoid}), "sigmoid");
  EXPECT_EQ(NodeLabel(Node{.op = Op::kMatMul, .bias = 3, .rope = true}), "matmul+bias+rope");
}

}  // namespace
}  // namespace strata::ir
