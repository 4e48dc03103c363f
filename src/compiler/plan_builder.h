// Builds the unoptimised plan of a model's forward pass: the model's architecture (model/arch/) describes its
// graph through the GraphBuilder interface, which this implementation turns into IR nodes, one basic op each,
// with every matmul tagged with how it splits across tensor-parallel ranks.
#pragma once

#include "compiler/ir.h"
#include "model/model.h"

namespace strata::ir {

Result<Plan> BuildPlan(const Model& model);

}  // namespace strata::ir
